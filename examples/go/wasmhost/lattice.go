package wasmhost

/*
#include <stdlib.h>
#include "trampolines.h"
*/
import "C"

import (
	"encoding/json"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Snapshot is the lattice picture of an Observer (the README's snapshot JSON).
type Snapshot struct {
	Lattice string            `json:"lattice"`
	Seq     uint64            `json:"seq"`
	Hosts   []ObservedHost    `json:"hosts"`
	Links   []json.RawMessage `json:"links"`
	Claims  []json.RawMessage `json:"claims"`
}

// ObservedHost is one host of the lattice as the observer sees it.
type ObservedHost struct {
	ID            string             `json:"id"`
	FriendlyName  string             `json:"friendly_name"`
	Labels        map[string]string  `json:"labels"`
	Version       string             `json:"version"`
	UptimeSeconds uint64             `json:"uptime_seconds"`
	Actors        []ObservedActor    `json:"actors"`
	Providers     []ObservedProvider `json:"providers"`
}

// ObservedActor is an actor running on one host.
type ObservedActor struct {
	PublicKey string `json:"public_key"`
	Name      string `json:"name"`
	ImageRef  string `json:"image_ref"`
	Revision  int    `json:"revision"`
	Instances []struct {
		InstanceID  string            `json:"instance_id"`
		Annotations map[string]string `json:"annotations"`
		Revision    int               `json:"revision"`
	} `json:"instances"`
}

// ObservedProvider is a provider running on one host.
type ObservedProvider struct {
	PublicKey  string `json:"public_key"`
	LinkName   string `json:"link_name"`
	ContractID string `json:"contract_id"`
	Name       string `json:"name"`
	Revision   int    `json:"revision"`
	Health     string `json:"health"`
}

// Change is one numbered change of the picture: Kind is e.g. "actor_added" or "link_set", Raw the
// whole change JSON (its other fields depend on the kind; the README lists them).
type Change struct {
	Seq  uint64          `json:"seq"`
	Kind string          `json:"kind"`
	Raw  json.RawMessage `json:"-"`
}

// Observer follows a lattice: Snapshot for the picture now, Watch for it and every change after.
type Observer struct {
	mu      sync.RWMutex // guards o against use after Close
	o       *C.wasmhost_observer_t
	once    sync.Once
	done    chan struct{}
	watches []*C.wasmhost_subscription_t
	chans   []chan Change
}

// changeSink is what the change trampoline's handle points to.
type changeSink struct {
	changes chan<- Change
	done    <-chan struct{}
}

// ObserveHost observes the lattice host is in: every host of it over the host's NATS settings
// when it joined one (blocking until the picture is seeded), the host alone when embedded.
// options are the observer options of the C API (nil for the defaults), e.g. ping_timeout_ms.
func ObserveHost(h *Host, options map[string]interface{}) (*Observer, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	ch, err := h.handle()
	if err != nil {
		return nil, err
	}
	return newObserver(options, func(opts *C.char, out **C.wasmhost_observer_t, cerr **C.wasmhost_error_t) C.enum_wasmhost_result_t {
		return C.wasmhost_observer_from_host(ch, opts, out, cerr)
	})
}

// ObserveNATS observes a lattice over the NATS servers of url (a comma list); options as for
// ObserveHost plus "lattice" ("default"). Blocks until the picture is seeded.
func ObserveNATS(url string, options map[string]interface{}) (*Observer, error) {
	curl := C.CString(url)
	defer C.free(unsafe.Pointer(curl))
	return newObserver(options, func(opts *C.char, out **C.wasmhost_observer_t, cerr **C.wasmhost_error_t) C.enum_wasmhost_result_t {
		return C.wasmhost_observer_connect(curl, opts, out, cerr)
	})
}

func newObserver(options map[string]interface{}, open func(*C.char, **C.wasmhost_observer_t, **C.wasmhost_error_t) C.enum_wasmhost_result_t) (*Observer, error) {
	var opts *C.char
	if options != nil {
		text, err := json.Marshal(options)
		if err != nil {
			return nil, &Error{Kind: InvalidInput, Message: "observer options: " + err.Error()}
		}
		opts = C.CString(string(text))
		defer C.free(unsafe.Pointer(opts))
	}
	var o *C.wasmhost_observer_t
	var cerr *C.wasmhost_error_t
	if err := check(open(opts, &o, &cerr), cerr); err != nil {
		return nil, err
	}
	return &Observer{o: o, done: make(chan struct{})}, nil
}

func (o *Observer) handle() (*C.wasmhost_observer_t, error) {
	if o.o == nil {
		return nil, &Error{Kind: Stopped, Message: "the observer is closed"}
	}
	return o.o, nil
}

// Snapshot returns the picture now.
func (o *Observer) Snapshot() (Snapshot, error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	var snap Snapshot
	obs, err := o.handle()
	if err != nil {
		return snap, err
	}
	var s *C.char
	var cerr *C.wasmhost_error_t
	if err := check(C.wasmhost_observer_snapshot_json(obs, &s, &cerr), cerr); err != nil {
		return snap, err
	}
	defer C.wasmhost_string_free(s)
	err = json.Unmarshal([]byte(C.GoString(s)), &snap)
	return snap, err
}

// Watch returns the picture now and a channel of every change after it (Seq above the
// snapshot's), closed by Close. Changes wait for a slow reader (until Close).
func (o *Observer) Watch() (Snapshot, <-chan Change, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var snap Snapshot
	obs, err := o.handle()
	if err != nil {
		return snap, nil, err
	}
	changes := make(chan Change, 256)
	handle := cgo.NewHandle(&changeSink{changes: changes, done: o.done})
	var s *C.char
	var sub *C.wasmhost_subscription_t
	var cerr *C.wasmhost_error_t
	if err := check(C.go_observer_subscribe(obs, C.uintptr_t(handle), &s, &sub, &cerr), cerr); err != nil {
		handle.Delete()
		return snap, nil, err
	}
	defer C.wasmhost_string_free(s)
	o.watches = append(o.watches, sub)
	o.chans = append(o.chans, changes)
	err = json.Unmarshal([]byte(C.GoString(s)), &snap)
	return snap, changes, err
}

// Close stops observing, ends every Watch (closing its channel) and frees the observer. A second
// Close returns a Stopped error.
func (o *Observer) Close() error {
	closed := true
	o.once.Do(func() { closed = false })
	if closed {
		return &Error{Kind: Stopped, Message: "the observer is already closed"}
	}
	close(o.done)
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, sub := range o.watches {
		C.wasmhost_subscription_free(sub) // joins its thread: no callback runs after this
	}
	for _, ch := range o.chans {
		close(ch)
	}
	C.wasmhost_observer_free(o.o)
	o.o = nil
	return nil
}
