// JPEG decoding and encoding with libjpeg-turbo. libjpeg reports fatal errors by calling
// error_exit, whose default prints and exit()s; ours longjmps back here instead, so corrupt
// input becomes an error code and a message.
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "hd_codec.h"

typedef struct hd_jpeg_error {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int warnings;
} hd_jpeg_error;

static void hd_jpeg_error_exit(j_common_ptr cinfo) {
  hd_jpeg_error *err = (hd_jpeg_error *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

// Warnings (level -1) are tolerated and counted, except "premature end of JPEG file":
// libjpeg would pad a truncated image with grey; PIL raises "image file is truncated" (even
// when only the end-of-image marker is missing), and so do we.
static void hd_jpeg_emit_message(j_common_ptr cinfo, int level) {
  hd_jpeg_error *err = (hd_jpeg_error *)cinfo->err;
  if (level < 0) {
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
      (*cinfo->err->format_message)(cinfo, err->message);
      snprintf(err->message + strlen(err->message), sizeof err->message - strlen(err->message),
               " (the file is truncated)");
      longjmp(err->jump, 1);
    }
    err->warnings += 1;
  }
}

static void hd_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void hd_jpeg_install(hd_jpeg_error *err) {
  jpeg_std_error(&err->pub);
  err->pub.error_exit = hd_jpeg_error_exit;
  err->pub.emit_message = hd_jpeg_emit_message;
  err->pub.output_message = hd_jpeg_output_message;
  err->message[0] = 0;
  err->warnings = 0;
}

static void hd_set_message(char *msg, size_t msg_len, const char *text) {
  if (msg && msg_len > 0) snprintf(msg, msg_len, "%s", text);
}

int hd_sniff(const unsigned char *data, size_t len) {
  static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return HD_FORMAT_JPEG;
  if (len >= 8 && memcmp(data, png_sig, 8) == 0) return HD_FORMAT_PNG;
  return HD_FORMAT_UNKNOWN;
}

void hd_free(void *p) { free(p); }

// Adobe-polarity CMYK (as stored by Photoshop and PIL) to RGB, exactly as PIL's
// "CMYK;I" unpacking followed by convert('RGB').
static void hd_cmyk_row_to_rgb(const unsigned char *in, unsigned char *out, int width, int channels) {
  for (int x = 0; x < width; x++) {
    int c = 255 - in[0], m = 255 - in[1], y = 255 - in[2], k = 255 - in[3];
    int nk = 255 - k, tmp;
#define HD_MULDIV255(a, b) (tmp = (a) * (b) + 128, (((tmp >> 8) + tmp) >> 8))
    int r = nk - HD_MULDIV255(c, nk);
    int g = nk - HD_MULDIV255(m, nk);
    int b = nk - HD_MULDIV255(y, nk);
#undef HD_MULDIV255
    out[0] = (unsigned char)(r < 0 ? 0 : r > 255 ? 255 : r);
    out[1] = (unsigned char)(g < 0 ? 0 : g > 255 ? 255 : g);
    out[2] = (unsigned char)(b < 0 ? 0 : b > 255 ? 255 : b);
    if (channels == 4) out[3] = 255;
    in += 4;
    out += channels;
  }
}

typedef struct hd_jpeg_decode_state {
  struct jpeg_decompress_struct cinfo;
  hd_jpeg_error err;
  struct jpeg_progress_mgr progress;
  unsigned char *pixels;
  unsigned char *row;
} hd_jpeg_decode_state;

// A progressive JPEG may hold any number of scans, each a pass over the whole image, so a
// small hostile file can keep the decoder busy for minutes. libjpeg-turbo's own tools and
// fuzzers stop at 500 scans (real encoders write about 10); so do we, through the progress
// monitor, which libjpeg calls as it reads.
#define HD_JPEG_MAX_SCANS 500

static void hd_jpeg_progress(j_common_ptr cinfo) {
  if (!cinfo->is_decompressor) return;
  j_decompress_ptr d = (j_decompress_ptr)cinfo;
  if (d->input_scan_number > HD_JPEG_MAX_SCANS) {
    hd_jpeg_error *err = (hd_jpeg_error *)cinfo->err;
    snprintf(err->message, sizeof err->message, "more than %d scans (refused: a JPEG this long only slows the decoder)",
             HD_JPEG_MAX_SCANS);
    longjmp(err->jump, 1);
  }
}

static void hd_choose_scale(struct jpeg_decompress_struct *cinfo, int min_w, int min_h, int scaling) {
  cinfo->scale_num = 8;
  cinfo->scale_denom = 8;
  if (scaling == HD_SCALE_NONE || (min_w <= 0 && min_h <= 0)) return;
  static const int pow2[] = {1, 2, 4, 8};
  static const int any[] = {1, 2, 3, 4, 5, 6, 7, 8};
  const int *candidates = scaling == HD_SCALE_POWER_OF_TWO ? pow2 : any;
  int count = scaling == HD_SCALE_POWER_OF_TWO ? 4 : 8;
  for (int i = 0; i < count; i++) {
    cinfo->scale_num = (unsigned int)candidates[i];
    jpeg_calc_output_dimensions(cinfo);
    if ((int)cinfo->output_width >= min_w && (int)cinfo->output_height >= min_h) return;
  }
  cinfo->scale_num = 8;  // smaller than the minimum already: full size, never upscale
}

int hd_jpeg_decode(const unsigned char *data, size_t len, int min_width, int min_height, int scaling,
                   int channels, uint64_t max_pixels, hd_image *out, char *msg, size_t msg_len) {
  if (!out || (!data && len > 0) || (channels != 3 && channels != 4)) {
    hd_set_message(msg, msg_len, "invalid argument");
    return HD_ERR_ARGUMENT;
  }
  memset(out, 0, sizeof *out);
  if (hd_sniff(data, len) != HD_FORMAT_JPEG) {
    hd_set_message(msg, msg_len, "not a JPEG file (no SOI marker)");
    return HD_ERR_FORMAT;
  }
  hd_jpeg_decode_state *volatile st = (hd_jpeg_decode_state *)calloc(1, sizeof(hd_jpeg_decode_state));
  if (!st) {
    hd_set_message(msg, msg_len, "out of memory");
    return HD_ERR_NOMEM;
  }
  st->cinfo.err = &st->err.pub;
  hd_jpeg_install(&st->err);
  if (setjmp(st->err.jump)) {
    hd_set_message(msg, msg_len, st->err.message[0] ? st->err.message : "corrupt JPEG data");
    jpeg_destroy_decompress(&st->cinfo);
    free(st->pixels);
    free(st->row);
    free(st);
    return HD_ERR_CORRUPT;
  }
  jpeg_create_decompress(&st->cinfo);
  st->progress.progress_monitor = hd_jpeg_progress;
  st->cinfo.progress = &st->progress;
  jpeg_mem_src(&st->cinfo, data, (unsigned long)len);
  jpeg_read_header(&st->cinfo, TRUE);

  struct jpeg_decompress_struct *cinfo = &st->cinfo;
  uint64_t source_pixels = (uint64_t)cinfo->image_width * (uint64_t)cinfo->image_height;
  if (max_pixels > 0 && source_pixels > max_pixels) {
    if (msg && msg_len > 0)
      snprintf(msg, msg_len, "image is %ux%u (%llu pixels), more than the limit of %llu pixels",
               cinfo->image_width, cinfo->image_height, (unsigned long long)source_pixels,
               (unsigned long long)max_pixels);
    jpeg_destroy_decompress(cinfo);
    free(st);
    return HD_ERR_TOO_LARGE;
  }
  int cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  cinfo->out_color_space = cmyk ? JCS_CMYK : channels == 4 ? JCS_EXT_RGBX : JCS_RGB;
  hd_choose_scale(cinfo, min_width, min_height, scaling);
  jpeg_start_decompress(cinfo);

  int w = (int)cinfo->output_width, h = (int)cinfo->output_height;
  if (cinfo->output_components != (cmyk ? 4 : channels)) {
    snprintf(st->err.message, sizeof st->err.message, "unsupported JPEG colour layout (%d components)",
             cinfo->output_components);
    longjmp(st->err.jump, 1);
  }
  st->pixels = (unsigned char *)malloc((size_t)w * (size_t)h * (size_t)channels);
  if (cmyk) st->row = (unsigned char *)malloc((size_t)w * 4);
  if (!st->pixels || (cmyk && !st->row)) {
    snprintf(st->err.message, sizeof st->err.message, "out of memory for a %dx%d image", w, h);
    longjmp(st->err.jump, 1);
  }
  while (cinfo->output_scanline < cinfo->output_height) {
    unsigned int y = cinfo->output_scanline;
    if (cmyk) {
      JSAMPROW rows[1] = {st->row};
      jpeg_read_scanlines(cinfo, rows, 1);
      hd_cmyk_row_to_rgb(st->row, st->pixels + (size_t)y * (size_t)w * (size_t)channels, w, channels);
    } else {
      JSAMPROW rows[16];
      unsigned int n = cinfo->output_height - y;
      if (n > 16) n = 16;
      for (unsigned int i = 0; i < n; i++) rows[i] = st->pixels + (size_t)(y + i) * (size_t)w * (size_t)channels;
      jpeg_read_scanlines(cinfo, rows, n);
    }
  }
  jpeg_finish_decompress(cinfo);
  out->width = w;
  out->height = h;
  out->source_width = (int)cinfo->image_width;
  out->source_height = (int)cinfo->image_height;
  out->source_channels = cinfo->num_components;
  out->warnings = st->err.warnings;
  out->channels = channels;
  out->pixels = st->pixels;
  jpeg_destroy_decompress(cinfo);
  free(st->row);
  free(st);
  return HD_OK;
}

typedef struct hd_jpeg_encode_state {
  struct jpeg_compress_struct cinfo;
  hd_jpeg_error err;
  unsigned char *buffer;
  unsigned long size;
} hd_jpeg_encode_state;

static int hd_jpeg_encode_any(const unsigned char *px, int width, int height, int quality, int progressive,
                              int components, int ycck, unsigned char **out, size_t *out_len, char *msg,
                              size_t msg_len);

int hd_jpeg_encode(const unsigned char *rgb, int width, int height, int quality, int progressive,
                   unsigned char **out, size_t *out_len, char *msg, size_t msg_len) {
  return hd_jpeg_encode_any(rgb, width, height, quality, progressive, 3, 0, out, out_len, msg, msg_len);
}

int hd_jpeg_encode_cmyk(const unsigned char *cmyk, int width, int height, int quality, int ycck,
                        unsigned char **out, size_t *out_len, char *msg, size_t msg_len) {
  return hd_jpeg_encode_any(cmyk, width, height, quality, 0, 4, ycck, out, out_len, msg, msg_len);
}

static int hd_jpeg_encode_any(const unsigned char *rgb, int width, int height, int quality, int progressive,
                              int components, int ycck, unsigned char **out, size_t *out_len, char *msg,
                              size_t msg_len) {
  if (!rgb || !out || !out_len || width <= 0 || height <= 0 || width > 65500 || height > 65500) {
    hd_set_message(msg, msg_len, "invalid image size for JPEG (1...65500 per side)");
    return HD_ERR_ARGUMENT;
  }
  *out = NULL;
  *out_len = 0;
  hd_jpeg_encode_state *volatile st = (hd_jpeg_encode_state *)calloc(1, sizeof(hd_jpeg_encode_state));
  if (!st) {
    hd_set_message(msg, msg_len, "out of memory");
    return HD_ERR_NOMEM;
  }
  st->cinfo.err = &st->err.pub;
  hd_jpeg_install(&st->err);
  if (setjmp(st->err.jump)) {
    hd_set_message(msg, msg_len, st->err.message[0] ? st->err.message : "JPEG encoding failed");
    jpeg_destroy_compress(&st->cinfo);
    free(st->buffer);
    free(st);
    return HD_ERR_CORRUPT;
  }
  jpeg_create_compress(&st->cinfo);
  jpeg_mem_dest(&st->cinfo, &st->buffer, &st->size);
  st->cinfo.image_width = (JDIMENSION)width;
  st->cinfo.image_height = (JDIMENSION)height;
  st->cinfo.input_components = components;
  st->cinfo.in_color_space = components == 4 ? JCS_CMYK : JCS_RGB;
  jpeg_set_defaults(&st->cinfo);
  if (components == 4) jpeg_set_colorspace(&st->cinfo, ycck ? JCS_YCCK : JCS_CMYK);
  jpeg_set_quality(&st->cinfo, quality < 1 ? 1 : quality > 100 ? 100 : quality, TRUE);
  if (progressive) jpeg_simple_progression(&st->cinfo);
  jpeg_start_compress(&st->cinfo, TRUE);
  while (st->cinfo.next_scanline < st->cinfo.image_height) {
    JSAMPROW row = (JSAMPROW)(rgb + (size_t)st->cinfo.next_scanline * (size_t)width * (size_t)components);
    jpeg_write_scanlines(&st->cinfo, &row, 1);
  }
  jpeg_finish_compress(&st->cinfo);
  *out = st->buffer;
  *out_len = (size_t)st->size;
  jpeg_destroy_compress(&st->cinfo);
  free(st);
  return HD_OK;
}

uint64_t hd_hash64(const void *data, size_t len, uint64_t seed) {
  // One lane of xxHash64's round function plus its avalanche: fast, stable, well mixed.
  static const uint64_t P1 = 0x9E3779B185EBCA87ULL, P2 = 0xC2B2AE3D27D4EB4FULL, P3 = 0x165667B19E3779F9ULL,
                        P4 = 0x85EBCA77C2B2AE63ULL, P5 = 0x27D4EB2F165667C5ULL;
#define HD_ROTL(x, r) (((x) << (r)) | ((x) >> (64 - (r))))
  const unsigned char *p = (const unsigned char *)data;
  uint64_t h = seed + P5 + (uint64_t)len;
  while (len >= 8) {
    uint64_t k = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
                 (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
    k *= P2;
    k = HD_ROTL(k, 31);
    k *= P1;
    h ^= k;
    h = HD_ROTL(h, 27) * P1 + P4;
    p += 8;
    len -= 8;
  }
  while (len > 0) {
    h ^= (uint64_t)(*p) * P5;
    h = HD_ROTL(h, 11) * P1;
    p++;
    len--;
  }
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
#undef HD_ROTL
  return h;
}
