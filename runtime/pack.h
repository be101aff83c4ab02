/*
 * pack.h - `ftrun pack`: a dataset as pre-decoded uint8 records, read by mmap.
 *
 * A pack holds both splits of a source (IDX train-* and t10k-*, ImageFolder
 * train/ and val/), every image already decoded and resized to one stored
 * size, so an epoch from a pack reads memory instead of decoding JPEGs. The
 * dataset reader (data.h) opens a pack like any other source (`--data
 * FILE.ftpk`); training still augments on top of the stored images.
 *
 * File layout (all integers little-endian):
 *   header       64 bytes, ft_pack_header below
 *   names        names_bytes: the class names, each ended by a NUL, then
 *                zeros up to a multiple of 8
 *   labels       uint32 per record, the training split's then the held-out's
 *   (zeros up to a multiple of 4096)
 *   records      count[0] + count[1] records of height x width x channels
 *                uint8 (interleaved, row-major), training split first
 * The file is exactly that long. meta_crc is the CRC-32C of the header (with
 * meta_crc itself zero), the names (with their padding) and the labels, so a
 * damaged header, name list or label is refused at open; the records
 * themselves carry no checksum (a flipped pixel bit goes unnoticed, as it
 * would in a JPEG's pixel data).
 *
 * Stored size: each image is resized (bilinear, data.h) so its shorter side
 * is the stored side and center-cropped to a square, as torchvision's
 * Resize(S) + CenterCrop(S) do; IDX images keep their own size by default.
 */
#ifndef FT_PACK_H
#define FT_PACK_H

#include "base.h"

#define FT_PACK_MAGIC "FTPACK\r\n"
enum { FT_PACK_VERSION = 1, FT_PACK_HEADER_BYTES = 64, FT_PACK_ALIGN = 4096 };

/* where the images came from (the reader's default augmentation follows it, data.h) */
enum { FT_PACK_SRC_IDX = 0, FT_PACK_SRC_FOLDER = 1, FT_PACK_SRC_SYNTHETIC = 2 };

typedef struct ft_pack_header {
	char magic[8];
	uint32_t version;
	uint32_t header_bytes;  /* 64 */
	uint32_t channels, height, width;
	uint32_t classes;
	uint32_t source;        /* FT_PACK_SRC_* */
	uint32_t meta_crc;
	uint64_t count[2];      /* records of the training and the held-out split */
	uint64_t names_bytes;   /* with the padding */
} ft_pack_header;

typedef struct ft_pack_options {
	int size;               /* stored side; <= 0: IDX images' own size, 256 for an ImageFolder */
	int channels;           /* 1 or 3; <= 0: 1 for IDX, 3 otherwise */
	int workers;            /* decode threads (<= 0: one per core) */
	bool skip_bad;          /* unreadable images replaced as in training (data.h) */
	bool quiet;             /* no progress on stderr */
} ft_pack_options;

/* Packs the dataset at src (an IDX folder or an ImageFolder) into the file out. */
ft_status ft_pack_write(const char *src, const char *out, const ft_pack_options *opt);

/* Offsets of the sections of a pack with header h (file bytes in *total). */
void ft_pack_layout(const ft_pack_header *h, uint64_t *labels_off, uint64_t *records_off, uint64_t *total);

/* meta_crc of header h followed by meta, its names and labels (meta_len bytes). */
uint32_t ft_pack_meta_crc(const ft_pack_header *h, const uint8_t *meta, size_t meta_len);

/* Header to and from its 64 little-endian bytes. */
void ft_pack_header_encode(const ft_pack_header *h, uint8_t out[FT_PACK_HEADER_BYTES]);
void ft_pack_header_decode(const uint8_t in[FT_PACK_HEADER_BYTES], ft_pack_header *h);

#endif
