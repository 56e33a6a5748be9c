package hbone

import (
	"encoding/binary"
	"fmt"
)

// HTTP/2 wire constants (RFC 9113) used by the HBONE connection.

// frameType is an HTTP/2 frame type (RFC 9113 §6).
type frameType uint8

const (
	frameData         frameType = 0x0
	frameHeaders      frameType = 0x1
	framePriority     frameType = 0x2
	frameRSTStream    frameType = 0x3
	frameSettings     frameType = 0x4
	framePushPromise  frameType = 0x5
	framePing         frameType = 0x6
	frameGoAway       frameType = 0x7
	frameWindowUpdate frameType = 0x8
	frameContinuation frameType = 0x9
)

// Frame flags.
const (
	flagEndStream  = 0x1 // DATA, HEADERS
	flagAck        = 0x1 // SETTINGS, PING
	flagEndHeaders = 0x4 // HEADERS, CONTINUATION
	flagPadded     = 0x8 // DATA, HEADERS
	flagPriority   = 0x20
)

// Settings identifiers (RFC 9113 §6.5.2).
const (
	settingHeaderTableSize      = 0x1
	settingEnablePush           = 0x2
	settingMaxConcurrentStreams = 0x3
	settingInitialWindowSize    = 0x4
	settingMaxFrameSize         = 0x5
	settingMaxHeaderListSize    = 0x6
)

// errCode is an HTTP/2 error code (RFC 9113 §7).
type errCode uint32

const (
	errCodeNo                 errCode = 0x0
	errCodeProtocol           errCode = 0x1
	errCodeInternal           errCode = 0x2
	errCodeFlowControl        errCode = 0x3
	errCodeStreamClosed       errCode = 0x5
	errCodeFrameSize          errCode = 0x6
	errCodeRefusedStream      errCode = 0x7
	errCodeCancel             errCode = 0x8
	errCodeCompression        errCode = 0x9
	errCodeEnhanceYourCalm    errCode = 0xb
	errCodeInadequateSecurity errCode = 0xc
)

var errCodeNames = map[errCode]string{
	errCodeNo: "NO_ERROR", errCodeProtocol: "PROTOCOL_ERROR", errCodeInternal: "INTERNAL_ERROR",
	errCodeFlowControl: "FLOW_CONTROL_ERROR", errCodeStreamClosed: "STREAM_CLOSED",
	errCodeFrameSize: "FRAME_SIZE_ERROR", errCodeRefusedStream: "REFUSED_STREAM", errCodeCancel: "CANCEL",
	errCodeCompression: "COMPRESSION_ERROR", errCodeEnhanceYourCalm: "ENHANCE_YOUR_CALM",
	errCodeInadequateSecurity: "INADEQUATE_SECURITY",
}

func (c errCode) String() string {
	if s, ok := errCodeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("error code 0x%x", uint32(c))
}

const (
	frameHeaderLen = 9
	// clientPreface starts every HTTP/2 connection (RFC 9113 §3.4).
	clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	// defaultWindow and minMaxFrame are the values every peer starts with.
	defaultWindow = 65535
	minMaxFrame   = 1 << 14
	maxMaxFrame   = 1<<24 - 1
	maxWindow     = 1<<31 - 1
	// tlsRecord is the largest TLS plaintext record (RFC 8446 §5.1).
	tlsRecord = 1 << 14
)

// frameHeader is the 9-byte header of a frame.
type frameHeader struct {
	length   uint32
	typ      frameType
	flags    uint8
	streamID uint32
}

func parseFrameHeader(b []byte) frameHeader {
	return frameHeader{
		length:   uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]),
		typ:      frameType(b[3]),
		flags:    b[4],
		streamID: binary.BigEndian.Uint32(b[5:9]) & (1<<31 - 1),
	}
}

// appendFrameHeader appends a frame header for a payload of length bytes.
func appendFrameHeader(b []byte, length int, typ frameType, flags uint8, streamID uint32) []byte {
	return append(b, byte(length>>16), byte(length>>8), byte(length), byte(typ), flags,
		byte(streamID>>24), byte(streamID>>16), byte(streamID>>8), byte(streamID))
}

func appendUint32(b []byte, v uint32) []byte {
	return binary.BigEndian.AppendUint32(b, v)
}

// appendSettings appends a SETTINGS frame with the given id/value pairs.
func appendSettings(b []byte, kv ...uint32) []byte {
	b = appendFrameHeader(b, len(kv)/2*6, frameSettings, 0, 0)
	for i := 0; i+1 < len(kv); i += 2 {
		b = append(b, byte(kv[i]>>8), byte(kv[i]))
		b = appendUint32(b, kv[i+1])
	}
	return b
}

func appendWindowUpdate(b []byte, streamID uint32, inc uint32) []byte {
	b = appendFrameHeader(b, 4, frameWindowUpdate, 0, streamID)
	return appendUint32(b, inc)
}

func appendRSTStream(b []byte, streamID uint32, code errCode) []byte {
	b = appendFrameHeader(b, 4, frameRSTStream, 0, streamID)
	return appendUint32(b, uint32(code))
}

func appendPing(b []byte, ack bool, data [8]byte) []byte {
	var flags uint8
	if ack {
		flags = flagAck
	}
	b = appendFrameHeader(b, 8, framePing, flags, 0)
	return append(b, data[:]...)
}

func appendGoAway(b []byte, lastStreamID uint32, code errCode) []byte {
	b = appendFrameHeader(b, 8, frameGoAway, 0, 0)
	b = appendUint32(b, lastStreamID)
	return appendUint32(b, uint32(code))
}

// connError is a connection error (RFC 9113 §5.4.1): the connection ends
// with a GOAWAY carrying code.
type connError struct {
	code   errCode
	reason string
}

func (e connError) Error() string {
	return fmt.Sprintf("http2 connection error %s: %s", e.code, e.reason)
}

// StreamResetError is returned by stream reads and writes after the peer
// reset the stream (RST_STREAM) or the connection failed under it.
type StreamResetError struct {
	Code   uint32 // HTTP/2 error code
	Remote bool   // true if the peer sent the reset
}

func (e *StreamResetError) Error() string {
	who := "local"
	if e.Remote {
		who = "peer"
	}
	return fmt.Sprintf("hbone stream reset by %s: %s", who, errCode(e.Code))
}
