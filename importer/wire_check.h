/*
 * wire_check.h - a bounded pre-pass over protobuf wire format.
 *
 * protobuf-c's unpacker recurses once per nested message; a hostile file
 * nesting GraphProto attributes thousands deep would overflow the stack. This
 * walk follows the message descriptors iteratively-bounded and refuses nesting
 * deeper than FT_WIRE_MAX_DEPTH and malformed varints/lengths with a message,
 * before protobuf-c sees the bytes.
 */
#ifndef FT_WIRE_CHECK_H
#define FT_WIRE_CHECK_H

#include <protobuf-c/protobuf-c.h>

#include "base.h"

#define FT_WIRE_MAX_DEPTH 64

ft_status ft_wire_check(const ProtobufCMessageDescriptor *desc, const void *buf, size_t len, const char *name);

#endif
