// PNG decoding and encoding with libpng. libpng reports errors through png_error, which
// longjmps to the setjmp below; nothing here aborts the process.
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "hd_codec.h"

typedef struct hd_png_state {
  const unsigned char *data;
  size_t len;
  size_t pos;
  char message[256];
  int warnings;
  unsigned char *pixels;
  png_bytep *rows;
  // encoding
  unsigned char *out;
  size_t out_len;
  size_t out_cap;
} hd_png_state;

static void hd_png_error(png_structp png, png_const_charp text) {
  hd_png_state *st = (hd_png_state *)png_get_error_ptr(png);
  snprintf(st->message, sizeof st->message, "%s", text ? text : "libpng error");
  png_longjmp(png, 1);
}

static void hd_png_warning(png_structp png, png_const_charp text) {
  (void)text;
  hd_png_state *st = (hd_png_state *)png_get_error_ptr(png);
  st->warnings += 1;
}

static void hd_png_read(png_structp png, png_bytep out, size_t n) {
  hd_png_state *st = (hd_png_state *)png_get_io_ptr(png);
  if (n > st->len - st->pos) png_error(png, "unexpected end of data (the file is truncated)");
  memcpy(out, st->data + st->pos, n);
  st->pos += n;
}

int hd_png_decode(const unsigned char *data, size_t len, int channels, uint64_t max_pixels, hd_image *out,
                  char *msg, size_t msg_len) {
  if (!out || (!data && len > 0) || (channels != 3 && channels != 4)) {
    if (msg && msg_len) snprintf(msg, msg_len, "invalid argument");
    return HD_ERR_ARGUMENT;
  }
  memset(out, 0, sizeof *out);
  if (hd_sniff(data, len) != HD_FORMAT_PNG) {
    if (msg && msg_len) snprintf(msg, msg_len, "not a PNG file (bad signature)");
    return HD_ERR_FORMAT;
  }
  hd_png_state *volatile st = (hd_png_state *)calloc(1, sizeof(hd_png_state));
  if (!st) {
    if (msg && msg_len) snprintf(msg, msg_len, "out of memory");
    return HD_ERR_NOMEM;
  }
  st->data = data;
  st->len = len;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, st, hd_png_error, hd_png_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info) {
    if (png) png_destroy_read_struct(&png, NULL, NULL);
    free(st);
    if (msg && msg_len) snprintf(msg, msg_len, "out of memory");
    return HD_ERR_NOMEM;
  }
  volatile int too_large = 0;
  if (setjmp(png_jmpbuf(png))) {
    if (msg && msg_len) snprintf(msg, msg_len, "%s", st->message[0] ? st->message : "corrupt PNG data");
    png_destroy_read_struct(&png, &info, NULL);
    free(st->pixels);
    free(st->rows);
    free(st);
    return too_large ? HD_ERR_TOO_LARGE : HD_ERR_CORRUPT;
  }
  png_set_read_fn(png, st, hd_png_read);
  // Explicit bounds on ancillary chunks (compressed text, ICC profiles): at most 1000 kept,
  // none over 8 MB once decompressed, whatever defaults the system's libpng was built with.
  png_set_chunk_cache_max(png, 1000);
  png_set_chunk_malloc_max(png, 8 * 1000 * 1000);
  png_read_info(png, info);
  png_uint_32 w = 0, h = 0;
  int bit_depth = 0, color_type = 0;
  png_get_IHDR(png, info, &w, &h, &bit_depth, &color_type, NULL, NULL, NULL);
  uint64_t pixels = (uint64_t)w * (uint64_t)h;
  if (max_pixels > 0 && pixels > max_pixels) {
    snprintf(st->message, sizeof st->message, "image is %ux%u (%llu pixels), more than the limit of %llu pixels",
             (unsigned)w, (unsigned)h, (unsigned long long)pixels, (unsigned long long)max_pixels);
    too_large = 1;
    png_longjmp(png, 1);
  }
  int source_channels = png_get_channels(png, info);
  png_set_expand(png);       // palette -> RGB, gray < 8 bits -> 8 bits, tRNS -> alpha
  png_set_strip_16(png);     // 16 -> 8 bits: the high byte, as PIL does for RGB
  png_set_strip_alpha(png);  // alpha dropped, not composited (PIL's convert('RGB'))
  png_set_gray_to_rgb(png);
  if (channels == 4) png_set_filler(png, 0xFF, PNG_FILLER_AFTER);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_channels(png, info) != channels || png_get_bit_depth(png, info) != 8 ||
      png_get_rowbytes(png, info) != (size_t)w * (size_t)channels) {
    snprintf(st->message, sizeof st->message, "unsupported PNG layout (colour type %d, %d bits)", color_type,
             bit_depth);
    png_longjmp(png, 1);
  }
  st->pixels = (unsigned char *)malloc((size_t)w * (size_t)h * (size_t)channels);
  st->rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)h);
  if (!st->pixels || !st->rows) {
    snprintf(st->message, sizeof st->message, "out of memory for a %ux%u image", (unsigned)w, (unsigned)h);
    png_longjmp(png, 1);
  }
  for (png_uint_32 y = 0; y < h; y++) st->rows[y] = st->pixels + (size_t)y * (size_t)w * (size_t)channels;
  png_read_image(png, st->rows);
  // The trailing chunks (after the image data) are not read: an image whose data is complete
  // decodes even if IEND is missing, as with PIL.
  out->width = (int)w;
  out->height = (int)h;
  out->source_width = (int)w;
  out->source_height = (int)h;
  out->source_channels = source_channels;
  out->warnings = st->warnings;
  out->channels = channels;
  out->pixels = st->pixels;
  png_destroy_read_struct(&png, &info, NULL);
  free(st->rows);
  free(st);
  return HD_OK;
}

static void hd_png_write(png_structp png, png_bytep bytes, size_t n) {
  hd_png_state *st = (hd_png_state *)png_get_io_ptr(png);
  if (st->out_len + n > st->out_cap) {
    size_t cap = st->out_cap ? st->out_cap : 4096;
    while (cap < st->out_len + n) cap *= 2;
    unsigned char *grown = (unsigned char *)realloc(st->out, cap);
    if (!grown) png_error(png, "out of memory");
    st->out = grown;
    st->out_cap = cap;
  }
  memcpy(st->out + st->out_len, bytes, n);
  st->out_len += n;
}

static void hd_png_flush(png_structp png) { (void)png; }

int hd_png_encode(const unsigned char *rgb, int width, int height, unsigned char **out, size_t *out_len,
                  char *msg, size_t msg_len) {
  if (!rgb || !out || !out_len || width <= 0 || height <= 0) {
    if (msg && msg_len) snprintf(msg, msg_len, "invalid image size for PNG");
    return HD_ERR_ARGUMENT;
  }
  *out = NULL;
  *out_len = 0;
  hd_png_state *volatile st = (hd_png_state *)calloc(1, sizeof(hd_png_state));
  if (!st) return HD_ERR_NOMEM;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, st, hd_png_error, hd_png_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info) {
    if (png) png_destroy_write_struct(&png, NULL);
    free(st);
    return HD_ERR_NOMEM;
  }
  if (setjmp(png_jmpbuf(png))) {
    if (msg && msg_len) snprintf(msg, msg_len, "%s", st->message[0] ? st->message : "PNG encoding failed");
    png_destroy_write_struct(&png, &info);
    free(st->out);
    free(st->rows);
    free(st);
    return HD_ERR_CORRUPT;
  }
  png_set_write_fn(png, st, hd_png_write, hd_png_flush);
  png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  st->rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)height);
  if (!st->rows) png_error(png, "out of memory");
  for (int y = 0; y < height; y++) st->rows[y] = (png_bytep)(rgb + (size_t)y * (size_t)width * 3);
  png_set_rows(png, info, st->rows);
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
  *out = st->out;
  *out_len = st->out_len;
  png_destroy_write_struct(&png, &info);
  free(st->rows);
  free(st);
  return HD_OK;
}
