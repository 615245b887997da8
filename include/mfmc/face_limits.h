/* mfmc face layer: the counts beyond which it refuses work (MF_ERR_LIMIT, never a silent cut), in one place.
 * (The image and engine caps are in image.h / nn.h; the gallery's in gallery.h.) */
#ifndef MFMC_FACE_LIMITS_H
#define MFMC_FACE_LIMITS_H

enum {
    /* Faces one image may hold before detection (and so analysis) refuses it: far above any crowd photo (a
     * 100-megapixel stadium shot holds some 30,000 faces of 24 px). */
    MF_FACE_MAX_FOUND = 100000,
    /* Detector candidates of one image before merging (each face is seen by a few anchors on one or two pyramid
     * levels). */
    MF_FACE_MAX_CANDIDATES = 1 << 24,
    /* Largest embedding of any recognizer (the registry's largest is 1024). */
    MF_FACE_MAX_EMBEDDING_DIM = 4096,
    /* Bytes of an attribute model list ("faceres+gear+..."), normalised. */
    MF_FACE_ATTRIB_MAX_LIST = 256,
};

#endif
