package wasmhost

/*
#include <stdlib.h>
#include "trampolines.h"
*/
import "C"

import (
	"encoding/json"
	"runtime/cgo"
	"unsafe"
)

// The functions below are called by the C trampolines in trampolines.c, on libwasmhost threads.

//export goDeleteHandle
func goDeleteHandle(handle C.uintptr_t) {
	cgo.Handle(handle).Delete()
}

//export goOnEvent
func goOnEvent(handle C.uintptr_t, eventJSON *C.char, n C.size_t) {
	sink := cgo.Handle(handle).Value().(*eventSink)
	var ev Event
	if json.Unmarshal(C.GoBytes(unsafe.Pointer(eventJSON), C.int(n)), &ev) != nil {
		return
	}
	deliver(sink.events, sink.done, ev)
}

//export goOnChange
func goOnChange(handle C.uintptr_t, changeJSON *C.char, n C.size_t) {
	sink := cgo.Handle(handle).Value().(*changeSink)
	raw := C.GoBytes(unsafe.Pointer(changeJSON), C.int(n))
	var change Change
	if json.Unmarshal(raw, &change) != nil {
		return
	}
	change.Raw = raw
	deliver(sink.changes, sink.done, change)
}

// deliver sends v while there is room, else waits for the reader; only when the reader is behind
// and its owner is closing (done) is v dropped (a select with both cases ready would pick at random).
func deliver[T any](ch chan<- T, done <-chan struct{}, v T) {
	select {
	case ch <- v:
		return
	default:
	}
	select {
	case ch <- v:
	case <-done:
	}
}

//export goOnCallDone
func goOnCallDone(handle C.uintptr_t, result C.int, reply *C.uint8_t, n C.size_t, message *C.char) {
	out := cgo.Handle(handle).Value().(chan CallResult)
	if result != C.WASMHOST_OK {
		kind := Kind(C.GoString(C.wasmhost_result_name(C.int32_t(result))))
		out <- CallResult{Err: &Error{Kind: kind, Message: C.GoString(message)}}
		return
	}
	out <- CallResult{Reply: C.GoBytes(unsafe.Pointer(reply), C.int(n))}
}

//export goOnCapability
func goOnCapability(handle C.uintptr_t, call *C.wasmhost_capability_call_t, reply *C.wasmhost_reply_t) {
	handler := cgo.Handle(handle).Value().(CapabilityHandler)
	out, err := handler(CapabilityCall{
		ActorID:    C.GoString(call.actor_id),
		ContractID: C.GoString(call.contract_id),
		LinkName:   C.GoString(call.link_name),
		Operation:  C.GoString(call.operation),
		Payload:    C.GoBytes(unsafe.Pointer(call.payload), C.int(call.payload_len)),
	})
	if err != nil {
		msg := C.CString(err.Error())
		defer C.free(unsafe.Pointer(msg))
		C.wasmhost_reply_error(reply, msg, nil)
		return
	}
	var p *C.uint8_t
	if len(out) > 0 {
		p = (*C.uint8_t)(unsafe.Pointer(&out[0]))
	}
	C.wasmhost_reply_ok(reply, p, C.size_t(len(out)), nil)
}

//export goOnPolicy
func goOnPolicy(handle C.uintptr_t, requestJSON *C.char, decision *C.wasmhost_decision_t) {
	policy := cgo.Handle(handle).Value().(Policy)
	var req PolicyRequest
	if err := json.Unmarshal([]byte(C.GoString(requestJSON)), &req); err != nil {
		msg := C.CString("undecodable policy request: " + err.Error())
		defer C.free(unsafe.Pointer(msg))
		C.wasmhost_decision_deny(decision, msg, nil)
		return
	}
	if err := policy(req); err != nil {
		msg := C.CString(err.Error())
		defer C.free(unsafe.Pointer(msg))
		C.wasmhost_decision_deny(decision, msg, nil)
		return
	}
	C.wasmhost_decision_permit(decision, nil)
}
