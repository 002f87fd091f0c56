// HydraData's image codec: JPEG (libjpeg-turbo) and PNG (libpng) decoding to RGB uint8,
// JPEG encoding, and a content hash. Plain C so that libjpeg's and libpng's setjmp/longjmp
// error handling stays inside C: no call here ever exits the process or unwinds through Swift.
//
// Every function returns HD_OK or an error code and, on error, writes a NUL-terminated
// message into `msg` (capacity `msg_len`). Pixel buffers returned in `hd_image` are
// malloc'd and owned by the caller (free with hd_free).
#ifndef HD_CODEC_H
#define HD_CODEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  HD_OK = 0,
  HD_ERR_FORMAT = 1,     // not a JPEG or PNG
  HD_ERR_CORRUPT = 2,    // the library rejected the data (corrupt, truncated, unsupported)
  HD_ERR_TOO_LARGE = 3,  // more pixels than the caller's limit
  HD_ERR_NOMEM = 4,
  HD_ERR_ARGUMENT = 5
};

enum { HD_FORMAT_UNKNOWN = 0, HD_FORMAT_JPEG = 1, HD_FORMAT_PNG = 2 };

// How JPEG decoding may use libjpeg's DCT scaling (output = ceil(size * M / 8)).
enum {
  HD_SCALE_NONE = 0,         // always full size (bit-identical to PIL's decode)
  HD_SCALE_POWER_OF_TWO = 1, // smallest of 1/8, 1/4, 1/2, 1 keeping both sides >= the minimum
  HD_SCALE_ANY_EIGHTH = 2    // smallest M/8 (M = 1...8) keeping both sides >= the minimum
};

typedef struct hd_image {
  int width;
  int height;
  int source_width;      // size before DCT scaling
  int source_height;
  int source_channels;   // channels in the file: 1 gray, 2 gray+alpha, 3 RGB/YCbCr, 4 RGBA/CMYK/YCCK
  int warnings;          // libjpeg warnings that were tolerated (corrupt data that still decoded)
  int channels;          // 3 (RGB) or 4 (RGBX, X = 255), as requested
  unsigned char *pixels; // width * height * channels bytes, row-major (HWC)
} hd_image;

// Which format the bytes are, from their signature (not the file name).
int hd_sniff(const unsigned char *data, size_t len);

// Decodes a JPEG to RGB (`channels` 3) or RGBX (`channels` 4; a padding byte of 255 per
// pixel, which lets SIMD resizers skip repacking). `min_width`/`min_height` (0 = no
// scaling) choose the DCT scale according to `scaling`. Grayscale is replicated, CMYK/YCCK converted as PIL does (Adobe
// polarity). A truncated file (premature end of data) is an error, not a grey-filled image.
int hd_jpeg_decode(const unsigned char *data, size_t len, int min_width, int min_height, int scaling,
                   int channels, uint64_t max_pixels, hd_image *out, char *msg, size_t msg_len);

// Decodes a PNG to RGB or RGBX (`channels` 3 or 4, as for JPEG): palette expanded, 16-bit reduced to the high byte (as PIL does for
// RGB), gray replicated, alpha dropped (not composited, as PIL's convert('RGB')).
int hd_png_decode(const unsigned char *data, size_t len, int channels, uint64_t max_pixels, hd_image *out,
                  char *msg, size_t msg_len);

// Encodes RGB (HWC) pixels as a baseline JPEG (4:2:0) of the given quality (1...100).
// `*out` is malloc'd; free with hd_free.
int hd_jpeg_encode(const unsigned char *rgb, int width, int height, int quality, int progressive,
                   unsigned char **out, size_t *out_len, char *msg, size_t msg_len);

// Encodes 4-channel (HWC) CMYK samples as an Adobe CMYK JPEG, or YCCK when `ycck` is
// non-zero. Samples are stored as given (Adobe files hold inverted ink values).
int hd_jpeg_encode_cmyk(const unsigned char *cmyk, int width, int height, int quality, int ycck,
                        unsigned char **out, size_t *out_len, char *msg, size_t msg_len);

// Encodes RGB (HWC) pixels as an 8-bit RGB PNG. `*out` is malloc'd; free with hd_free.
int hd_png_encode(const unsigned char *rgb, int width, int height, unsigned char **out, size_t *out_len,
                  char *msg, size_t msg_len);

void hd_free(void *p);

// A 64-bit non-cryptographic hash of `len` bytes (stable across platforms and versions),
// used to group byte-identical files.
uint64_t hd_hash64(const void *data, size_t len, uint64_t seed);

#ifdef __cplusplus
}
#endif

#endif
