// Package mpack encodes and decodes the few msgpack shapes the example actors speak
// (HttpServer.HandleRequest, KeyValue.Increment). It is not a general msgpack library.
package mpack

import (
	"encoding/binary"
	"errors"
)

// HTTPGet encodes an HttpRequest: GET path, no headers, empty body.
func HTTPGet(path string) []byte {
	b := []byte{0x85}
	b = str(str(b, "method"), "GET")
	b = str(str(b, "path"), path)
	b = str(str(b, "queryString"), "")
	b = append(str(b, "header"), 0x80)
	b = append(str(b, "body"), 0xc4, 0)
	return b
}

// Int encodes an integer (as the keyvalue interface's i32 replies).
func Int(v int64) []byte {
	if v >= 0 && v < 128 {
		return []byte{byte(v)}
	}
	out := make([]byte, 9)
	out[0] = 0xd3
	binary.BigEndian.PutUint64(out[1:], uint64(v))
	return out
}

func str(b []byte, s string) []byte {
	if len(s) < 32 {
		b = append(b, 0xa0|byte(len(s)))
	} else {
		b = append(b, 0xdb, 0, 0, 0, 0)
		binary.BigEndian.PutUint32(b[len(b)-4:], uint32(len(s)))
	}
	return append(b, s...)
}

var errShape = errors.New("mpack: unexpected msgpack")

type reader struct {
	b   []byte
	pos int
}

func (r *reader) take(n int) ([]byte, error) {
	if n < 0 || len(r.b)-r.pos < n {
		return nil, errShape
	}
	out := r.b[r.pos : r.pos+n]
	r.pos += n
	return out, nil
}

func (r *reader) be(n int) (uint64, error) {
	b, err := r.take(n)
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, err
}

func (r *reader) byte1() (byte, error) {
	b, err := r.take(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (r *reader) int() (int64, error) {
	c, err := r.byte1()
	if err != nil {
		return 0, err
	}
	switch {
	case c < 0x80:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c >= 0xcc && c <= 0xcf:
		v, err := r.be(1 << (c - 0xcc))
		return int64(v), err
	case c >= 0xd0 && c <= 0xd3:
		n := 1 << (c - 0xd0)
		v, err := r.be(n)
		shift := uint(64 - 8*n)
		return int64(v<<shift) >> shift, err
	}
	return 0, errShape
}

func (r *reader) bytes() ([]byte, error) {
	c, err := r.byte1()
	if err != nil {
		return nil, err
	}
	var n uint64
	switch {
	case c&0xe0 == 0xa0:
		n = uint64(c & 0x1f)
	case c == 0xd9 || c == 0xc4:
		n, err = r.be(1)
	case c == 0xda || c == 0xc5:
		n, err = r.be(2)
	case c == 0xdb || c == 0xc6:
		n, err = r.be(4)
	default:
		return nil, errShape
	}
	if err != nil {
		return nil, err
	}
	return r.take(int(n))
}

func (r *reader) mapLen() (int, error) {
	c, err := r.byte1()
	if err != nil {
		return 0, err
	}
	switch {
	case c&0xf0 == 0x80:
		return int(c & 0x0f), nil
	case c == 0xde:
		n, err := r.be(2)
		return int(n), err
	case c == 0xdf:
		n, err := r.be(4)
		return int(n), err
	}
	return 0, errShape
}

// skip skips one value: ints, strings, bins, nil, bools, maps and arrays.
func (r *reader) skip(depth int) error {
	if depth > 32 || r.pos >= len(r.b) {
		return errShape
	}
	c := r.b[r.pos]
	switch {
	case c < 0x80 || c >= 0xe0 || (c >= 0xcc && c <= 0xd3):
		_, err := r.int()
		return err
	case c&0xe0 == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb || c == 0xc4 || c == 0xc5 || c == 0xc6:
		_, err := r.bytes()
		return err
	case c == 0xc0 || c == 0xc2 || c == 0xc3:
		r.pos++
		return nil
	}
	var n uint64
	var err error
	isMap := false
	r.pos++
	switch {
	case c&0xf0 == 0x80:
		isMap, n = true, uint64(c&0x0f)
	case c&0xf0 == 0x90:
		n = uint64(c & 0x0f)
	case c == 0xdc || c == 0xde:
		isMap = c == 0xde
		n, err = r.be(2)
	case c == 0xdd || c == 0xdf:
		isMap = c == 0xdf
		n, err = r.be(4)
	default:
		return errShape
	}
	if err != nil {
		return err
	}
	if isMap {
		n *= 2
	}
	for i := uint64(0); i < n; i++ {
		if err := r.skip(depth + 1); err != nil {
			return err
		}
	}
	return nil
}

// HTTPResponse decodes an HttpResponse's status code and body.
func HTTPResponse(b []byte) (status int64, body []byte, err error) {
	r := &reader{b: b}
	n, err := r.mapLen()
	status = 200
	for i := 0; i < n && err == nil; i++ {
		var k []byte
		if k, err = r.bytes(); err != nil {
			break
		}
		switch string(k) {
		case "statusCode":
			status, err = r.int()
		case "body":
			body, err = r.bytes()
		default:
			err = r.skip(0)
		}
	}
	return status, body, err
}

// IncrementRequest decodes a KeyValue.Increment argument {"key": str, "value": int}.
func IncrementRequest(b []byte) (key string, value int64, err error) {
	r := &reader{b: b}
	n, err := r.mapLen()
	for i := 0; i < n && err == nil; i++ {
		var k []byte
		if k, err = r.bytes(); err != nil {
			break
		}
		switch string(k) {
		case "key":
			var kb []byte
			kb, err = r.bytes()
			key = string(kb)
		case "value":
			value, err = r.int()
		default:
			err = r.skip(0)
		}
	}
	return key, value, err
}
