/* Sealing with libsodium secretbox (XSalsa20-Poly1305): originals, sealed face patches, cached renders, and the
 * photo keys wrapped by the server's master key. */
#include "srv.h"

#include <stdlib.h>
#include <string.h>

int mf_srv_seal(const uint8_t *key, const uint8_t *data, size_t len, uint8_t **out, size_t *out_len) {
    size_t n;
    *out = NULL;
    *out_len = 0;
    if (mf_size_add(len, crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES, &n))
        return mf_error_set(MF_ERR_LIMIT, "sealed data too large");
    uint8_t *b = malloc(n);
    if (!b) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    randombytes_buf(b, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(b + crypto_secretbox_NONCEBYTES, data, len, b, key);
    *out = b;
    *out_len = n;
    return MF_OK;
}

int mf_srv_unseal(const uint8_t *key, const uint8_t *data, size_t len, uint8_t **out, size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    if (len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
        return mf_error_set(MF_ERR_FORMAT, "sealed data too short");
    size_t n = len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    uint8_t *b = malloc(n ? n : 1);
    if (!b) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    if (crypto_secretbox_open_easy(b, data + crypto_secretbox_NONCEBYTES, len - crypto_secretbox_NONCEBYTES, data,
                                   key)) {
        free(b);
        return mf_error_set(MF_ERR_FORMAT, "sealed data does not authenticate");
    }
    *out = b;
    *out_len = n;
    return MF_OK;
}

int mf_srv_photo_key(mf_srv *srv, mf_store_t *st, int64_t photo, uint8_t key[crypto_secretbox_KEYBYTES]) {
    uint8_t *w = NULL, *k = NULL;
    size_t wl, kl;
    int s = mf_store_photo_blob(st, photo, "key", &w, &wl);
    if (!s) s = mf_srv_unseal(srv->master, w, wl, &k, &kl);
    if (!s && kl != crypto_secretbox_KEYBYTES) s = mf_error_set(MF_ERR_FORMAT, "photo key of a wrong size");
    if (!s) memcpy(key, k, crypto_secretbox_KEYBYTES);
    if (k) sodium_memzero(k, kl);
    free(k);
    free(w);
    return s;
}
