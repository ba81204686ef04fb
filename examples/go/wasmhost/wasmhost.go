// Package wasmhost embeds a wasmhost lattice host in a Go program through libwasmhost's C ABI.
//
// Every method is one cgo crossing. Callbacks (events, capability handlers, policy, async call
// completions) come back from libwasmhost's threads through C trampolines (trampolines.c) with a
// runtime/cgo.Handle as user_data; libwasmhost deletes the handle through free_user_data when it
// no longer needs it.
package wasmhost

/*
#cgo CFLAGS: -I${SRCDIR}/../../../include
#cgo LDFLAGS: -L${SRCDIR}/../../../target/debug -lwasmhost -Wl,-rpath,${SRCDIR}/../../../target/debug
#include <stdlib.h>
#include "trampolines.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"
)

// Kind is the kind of an Error, the same names as the other bindings use.
type Kind string

// Error kinds (wasmhost_result_name of the C result codes).
const (
	NotFound      Kind = "not_found"
	InvalidInput  Kind = "invalid_input"
	Claims        Kind = "claims"
	Denied        Kind = "denied"
	Timeout       Kind = "timeout"
	Transport     Kind = "transport"
	Runtime       Kind = "runtime"
	Stopped       Kind = "stopped"
	Internal      Kind = "internal"
	WouldDeadlock Kind = "would_deadlock"
)

// Kinds lists every kind this package names, in the order of the C result codes.
var Kinds = []Kind{NotFound, InvalidInput, Claims, Denied, Timeout, Transport, Runtime, Stopped, Internal, WouldDeadlock}

// LibraryKinds lists the kinds libwasmhost reports (the names of result codes 1 up to the first
// unknown one): a test checks that Kinds covers them, so a kind added in the library is noticed.
func LibraryKinds() []Kind {
	var kinds []Kind
	for code := 1; ; code++ {
		name := C.GoString(C.wasmhost_result_name(C.int32_t(code)))
		if name == "unknown" {
			return kinds
		}
		kinds = append(kinds, Kind(name))
	}
}

// Error is a failure reported by libwasmhost.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("wasmhost: %s: %s", e.Kind, e.Message) }

// Is makes errors.Is(err, &wasmhost.Error{Kind: wasmhost.NotFound}) match on the kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && (t.Message == "" || t.Message == e.Message)
}

// check turns a result code and error object into a Go error, freeing the object.
func check(rc C.enum_wasmhost_result_t, cerr *C.wasmhost_error_t) error {
	if rc == C.WASMHOST_OK {
		return nil
	}
	defer C.wasmhost_error_free(cerr)
	return &Error{Kind: Kind(C.GoString(C.wasmhost_result_name(C.int32_t(rc)))), Message: C.GoString(C.wasmhost_error_message(cerr))}
}

// Config holds the host settings; the zero value runs the embedded lattice with the defaults.
type Config struct {
	Lattice           string            // lattice id ("default")
	Labels            map[string]string // extra host labels
	FriendlyName      string            // generated when empty
	InvocationTimeout time.Duration     // 10 s when zero
	MaxInstances      uint32            // 2048 when zero
	MaxInstanceMemory uint              // 64 MiB when zero
	NatsURL           string            // empty: embedded lattice; nats://host:port joins a NATS lattice
}

func (cfg *Config) build() (*C.wasmhost_config_t, error) {
	var c *C.wasmhost_config_t
	var cerr *C.wasmhost_error_t
	if err := check(C.wasmhost_config_new(&c, &cerr), cerr); err != nil {
		return nil, err
	}
	set := func(rc C.enum_wasmhost_result_t) error { return check(rc, cerr) }
	withStr := func(s string, f func(*C.char) C.enum_wasmhost_result_t) error {
		cs := C.CString(s)
		defer C.free(unsafe.Pointer(cs))
		return set(f(cs))
	}
	var errs []error
	if cfg.Lattice != "" {
		errs = append(errs, withStr(cfg.Lattice, func(s *C.char) C.enum_wasmhost_result_t { return C.wasmhost_config_set_lattice(c, s, &cerr) }))
	}
	for k, v := range cfg.Labels {
		ck, cv := C.CString(k), C.CString(v)
		errs = append(errs, set(C.wasmhost_config_set_label(c, ck, cv, &cerr)))
		C.free(unsafe.Pointer(ck))
		C.free(unsafe.Pointer(cv))
	}
	if cfg.FriendlyName != "" {
		errs = append(errs, withStr(cfg.FriendlyName, func(s *C.char) C.enum_wasmhost_result_t { return C.wasmhost_config_set_friendly_name(c, s, &cerr) }))
	}
	if cfg.InvocationTimeout > 0 {
		errs = append(errs, set(C.wasmhost_config_set_invocation_timeout_ms(c, C.uint64_t(cfg.InvocationTimeout.Milliseconds()), &cerr)))
	}
	if cfg.MaxInstances > 0 {
		errs = append(errs, set(C.wasmhost_config_set_max_instances(c, C.uint32_t(cfg.MaxInstances), &cerr)))
	}
	if cfg.MaxInstanceMemory > 0 {
		errs = append(errs, set(C.wasmhost_config_set_max_instance_memory(c, C.size_t(cfg.MaxInstanceMemory), &cerr)))
	}
	if cfg.NatsURL != "" {
		errs = append(errs, withStr(cfg.NatsURL, func(s *C.char) C.enum_wasmhost_result_t { return C.wasmhost_config_set_nats_url(c, s, &cerr) }))
	}
	for _, err := range errs {
		if err != nil {
			C.wasmhost_config_free(c)
			return nil, err
		}
	}
	return c, nil
}

// Event is one lattice event (a CloudEvent).
type Event struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Source string          `json:"source"`
	Time   string          `json:"time"`
	Data   json.RawMessage `json:"data"`
}

// Host is a running host. Its methods are safe for concurrent use.
type Host struct {
	h      *C.wasmhost_host_t
	id     string
	events chan Event
	done   chan struct{}
	sub    *C.wasmhost_subscription_t
	once   sync.Once
	mu     sync.RWMutex // guards h against use after Close
}

// eventSink is what the event trampoline's handle points to.
type eventSink struct {
	events chan<- Event
	done   <-chan struct{}
}

// Start starts a host (nil config: the defaults) and subscribes to its events.
func Start(cfg *Config) (*Host, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	c, err := cfg.build()
	if err != nil {
		return nil, err
	}
	defer C.wasmhost_config_free(c)
	var h *C.wasmhost_host_t
	var cerr *C.wasmhost_error_t
	if err := check(C.wasmhost_host_start(c, &h, &cerr), cerr); err != nil {
		return nil, err
	}
	var id *C.char
	C.wasmhost_host_id(h, &id, nil)
	host := &Host{h: h, id: C.GoString(id), events: make(chan Event, 256), done: make(chan struct{})}
	handle := cgo.NewHandle(&eventSink{events: host.events, done: host.done})
	if err := check(C.go_events_subscribe(h, C.uintptr_t(handle), &host.sub, &cerr), cerr); err != nil {
		handle.Delete()
		C.wasmhost_host_free(h)
		return nil, err
	}
	return host, nil
}

// ID is the host's public key (N...).
func (h *Host) ID() string { return h.id }

// Events delivers the host's lattice events from Start on; it is closed by Close. Events that
// arrive while the channel is full wait for the reader (until Close).
func (h *Host) Events() <-chan Event { return h.events }

// handle returns the C host, or a Stopped error after Close. Callers hold h.mu.RLock.
func (h *Host) handle() (*C.wasmhost_host_t, error) {
	if h.h == nil {
		return nil, &Error{Kind: Stopped, Message: "the host is closed"}
	}
	return h.h, nil
}

func (h *Host) jsonCall(f func(*C.wasmhost_host_t, **C.char, **C.wasmhost_error_t) C.enum_wasmhost_result_t, out interface{}) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	ch, err := h.handle()
	if err != nil {
		return err
	}
	var s *C.char
	var cerr *C.wasmhost_error_t
	if err := check(f(ch, &s, &cerr), cerr); err != nil {
		return err
	}
	defer C.wasmhost_string_free(s)
	return json.Unmarshal([]byte(C.GoString(s)), out)
}

// Labels returns the host labels (hostcore.* included).
func (h *Host) Labels() (map[string]string, error) {
	labels := map[string]string{}
	err := h.jsonCall(func(c *C.wasmhost_host_t, s **C.char, e **C.wasmhost_error_t) C.enum_wasmhost_result_t {
		return C.wasmhost_host_labels_json(c, s, e)
	}, &labels)
	return labels, err
}

// Inventory is the host inventory as the control interface reports it.
type Inventory struct {
	HostID       string            `json:"host_id"`
	Labels       map[string]string `json:"labels"`
	FriendlyName string            `json:"friendly_name"`
	Actors       []struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Instances []struct {
			InstanceID  string            `json:"instance_id"`
			Annotations map[string]string `json:"annotations"`
			Revision    int               `json:"revision"`
		} `json:"instances"`
	} `json:"actors"`
}

// Inventory returns what runs on the host.
func (h *Host) Inventory() (Inventory, error) {
	var inv Inventory
	err := h.jsonCall(func(c *C.wasmhost_host_t, s **C.char, e **C.wasmhost_error_t) C.enum_wasmhost_result_t {
		return C.wasmhost_host_inventory_json(c, s, e)
	}, &inv)
	return inv, err
}

func annotationsJSON(annotations map[string]string) (*C.char, error) {
	if len(annotations) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(annotations)
	if err != nil {
		return nil, err
	}
	return C.CString(string(b)), nil
}

// StartActor starts count instances of the signed actor in the file at path; returns its public key.
func (h *Host) StartActor(path string, count int, annotations map[string]string) (string, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return h.startActor(count, annotations, func(c *C.wasmhost_host_t, ann *C.char, out **C.char, e **C.wasmhost_error_t) C.enum_wasmhost_result_t {
		return C.wasmhost_actor_start_file(c, cpath, C.uint32_t(count), ann, out, e)
	})
}

// StartActorBytes starts count instances of the signed actor module; returns its public key.
func (h *Host) StartActorBytes(module []byte, count int, annotations map[string]string) (string, error) {
	cmod := C.CBytes(module)
	defer C.free(cmod)
	return h.startActor(count, annotations, func(c *C.wasmhost_host_t, ann *C.char, out **C.char, e **C.wasmhost_error_t) C.enum_wasmhost_result_t {
		return C.wasmhost_actor_start_bytes(c, (*C.uint8_t)(cmod), C.size_t(len(module)), C.uint32_t(count), ann, out, e)
	})
}

func (h *Host) startActor(count int, annotations map[string]string, f func(*C.wasmhost_host_t, *C.char, **C.char, **C.wasmhost_error_t) C.enum_wasmhost_result_t) (string, error) {
	if count < 0 || count > 65535 {
		return "", &Error{Kind: InvalidInput, Message: fmt.Sprintf("count %d out of range", count)}
	}
	ann, err := annotationsJSON(annotations)
	if err != nil {
		return "", err
	}
	defer C.free(unsafe.Pointer(ann))
	h.mu.RLock()
	defer h.mu.RUnlock()
	ch, err := h.handle()
	if err != nil {
		return "", err
	}
	var pk *C.char
	var cerr *C.wasmhost_error_t
	if err := check(f(ch, ann, &pk, &cerr), cerr); err != nil {
		return "", err
	}
	defer C.wasmhost_string_free(pk)
	return C.GoString(pk), nil
}

// ScaleActor sets the number of instances of a running actor (0 stops it).
func (h *Host) ScaleActor(actor string, count int) error {
	return h.actorOp(actor, func(c *C.wasmhost_host_t, a *C.char, e **C.wasmhost_error_t) C.enum_wasmhost_result_t {
		return C.wasmhost_actor_scale(c, a, C.uint32_t(count), nil, e)
	})
}

// StopActor stops count instances (0 = all) of a running actor.
func (h *Host) StopActor(actor string, count int) error {
	return h.actorOp(actor, func(c *C.wasmhost_host_t, a *C.char, e **C.wasmhost_error_t) C.enum_wasmhost_result_t {
		return C.wasmhost_actor_stop(c, a, C.uint32_t(count), nil, e)
	})
}

func (h *Host) actorOp(actor string, f func(*C.wasmhost_host_t, *C.char, **C.wasmhost_error_t) C.enum_wasmhost_result_t) error {
	ca := C.CString(actor)
	defer C.free(unsafe.Pointer(ca))
	h.mu.RLock()
	defer h.mu.RUnlock()
	ch, err := h.handle()
	if err != nil {
		return err
	}
	var cerr *C.wasmhost_error_t
	return check(f(ch, ca, &cerr), cerr)
}

// Call invokes operation on actor (public key or call alias) with payload and returns the reply.
func (h *Host) Call(actor, operation string, payload []byte) ([]byte, error) {
	ca, cop := C.CString(actor), C.CString(operation)
	defer C.free(unsafe.Pointer(ca))
	defer C.free(unsafe.Pointer(cop))
	h.mu.RLock()
	defer h.mu.RUnlock()
	ch, err := h.handle()
	if err != nil {
		return nil, err
	}
	var reply *C.uint8_t
	var n C.size_t
	var cerr *C.wasmhost_error_t
	var p *C.uint8_t
	if len(payload) > 0 {
		p = (*C.uint8_t)(unsafe.Pointer(&payload[0]))
	}
	if err := check(C.wasmhost_actor_call(ch, ca, cop, p, C.size_t(len(payload)), &reply, &n, &cerr), cerr); err != nil {
		return nil, err
	}
	defer C.wasmhost_bytes_free(reply, n)
	return C.GoBytes(unsafe.Pointer(reply), C.int(n)), nil
}

// CallResult is the outcome of CallAsync.
type CallResult struct {
	Reply []byte
	Err   error
}

// CallAsync starts a call and returns at once; the result arrives on the returned channel.
func (h *Host) CallAsync(actor, operation string, payload []byte) <-chan CallResult {
	result := make(chan CallResult, 1)
	ca, cop := C.CString(actor), C.CString(operation)
	defer C.free(unsafe.Pointer(ca))
	defer C.free(unsafe.Pointer(cop))
	h.mu.RLock()
	defer h.mu.RUnlock()
	ch, err := h.handle()
	if err != nil {
		result <- CallResult{Err: err}
		return result
	}
	var p *C.uint8_t
	if len(payload) > 0 {
		p = (*C.uint8_t)(unsafe.Pointer(&payload[0]))
	}
	handle := cgo.NewHandle(result)
	var cerr *C.wasmhost_error_t
	if err := check(C.go_call_async(ch, ca, cop, p, C.size_t(len(payload)), C.uintptr_t(handle), &cerr), cerr); err != nil {
		handle.Delete() // a refused call never frees its user_data
		result <- CallResult{Err: err}
	}
	return result
}

// CapabilityCall is one host call from an actor to an in-process capability.
type CapabilityCall struct {
	ActorID, ContractID, LinkName, Operation string
	Payload                                  []byte
}

// CapabilityHandler answers an actor's host calls; a returned error reaches the actor as its host error.
type CapabilityHandler func(CapabilityCall) ([]byte, error)

// RegisterCapability makes handler answer actors' host calls to contractID with linkName. The
// handler runs on libwasmhost threads, possibly several at once.
func (h *Host) RegisterCapability(contractID, linkName string, handler CapabilityHandler) error {
	cc, cl := C.CString(contractID), C.CString(linkName)
	defer C.free(unsafe.Pointer(cc))
	defer C.free(unsafe.Pointer(cl))
	h.mu.RLock()
	defer h.mu.RUnlock()
	ch, err := h.handle()
	if err != nil {
		return err
	}
	handle := cgo.NewHandle(handler)
	var cerr *C.wasmhost_error_t
	if err := check(C.go_capability_register(ch, cc, cl, C.uintptr_t(handle), &cerr), cerr); err != nil {
		handle.Delete()
		return err
	}
	return nil
}

// PolicyRequest is what a policy decides on: Kind is start_actor, start_provider or invoke.
type PolicyRequest struct {
	Kind         string   `json:"kind"`
	PublicKey    string   `json:"public_key"`
	Issuer       string   `json:"issuer"`
	ImageRef     string   `json:"image_ref"`
	Capabilities []string `json:"capabilities"`
	Source       string   `json:"source"`
	Target       string   `json:"target"`
	Operation    string   `json:"operation"`
}

// Policy approves (nil) or denies (an error, whose text reaches the caller) a request.
type Policy func(PolicyRequest) error

// SetPolicy installs policy (nil removes it).
func (h *Host) SetPolicy(policy Policy) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	ch, err := h.handle()
	if err != nil {
		return err
	}
	var cerr *C.wasmhost_error_t
	if policy == nil {
		return check(C.wasmhost_policy_set(ch, nil, nil, nil, &cerr), cerr)
	}
	handle := cgo.NewHandle(policy)
	if err := check(C.go_policy_set(ch, C.uintptr_t(handle), &cerr), cerr); err != nil {
		handle.Delete()
		return err
	}
	return nil
}

// PutLink links an actor to a provider for a contract and link name.
func (h *Host) PutLink(actorID, providerID, contractID, linkName string, values map[string]string) error {
	strs := []*C.char{C.CString(actorID), C.CString(providerID), C.CString(contractID), C.CString(linkName)}
	defer func() {
		for _, s := range strs {
			C.free(unsafe.Pointer(s))
		}
	}()
	vals, err := annotationsJSON(values)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(vals))
	h.mu.RLock()
	defer h.mu.RUnlock()
	ch, err := h.handle()
	if err != nil {
		return err
	}
	var cerr *C.wasmhost_error_t
	return check(C.wasmhost_link_put(ch, strs[0], strs[1], strs[2], strs[3], vals, &cerr), cerr)
}

// Link is a link definition.
type Link struct {
	ActorID    string            `json:"actor_id"`
	ProviderID string            `json:"provider_id"`
	LinkName   string            `json:"link_name"`
	ContractID string            `json:"contract_id"`
	Values     map[string]string `json:"values"`
}

// Links lists the link definitions.
func (h *Host) Links() ([]Link, error) {
	var links []Link
	err := h.jsonCall(func(c *C.wasmhost_host_t, s **C.char, e **C.wasmhost_error_t) C.enum_wasmhost_result_t {
		return C.wasmhost_links_json(c, s, e)
	}, &links)
	return links, err
}

// DeleteLink removes a link; it reports whether one existed.
func (h *Host) DeleteLink(actorID, contractID, linkName string) (bool, error) {
	strs := []*C.char{C.CString(actorID), C.CString(contractID), C.CString(linkName)}
	defer func() {
		for _, s := range strs {
			C.free(unsafe.Pointer(s))
		}
	}()
	h.mu.RLock()
	defer h.mu.RUnlock()
	ch, err := h.handle()
	if err != nil {
		return false, err
	}
	var existed C.bool
	var cerr *C.wasmhost_error_t
	err = check(C.wasmhost_link_delete(ch, strs[0], strs[1], strs[2], &existed, &cerr), cerr)
	return bool(existed), err
}

// Close stops the host (events up to host_stopped are still delivered to a reader of Events),
// ends the event subscription, closes the Events channel and frees the host. A second Close
// returns a Stopped error.
func (h *Host) Close() error {
	closed := true
	h.once.Do(func() { closed = false })
	if closed {
		return &Error{Kind: Stopped, Message: "the host is already closed"}
	}
	var cerr *C.wasmhost_error_t
	stopErr := check(C.wasmhost_host_stop(h.h, &cerr), cerr)
	close(h.done)                       // stop waiting on a reader that is gone
	C.wasmhost_subscription_free(h.sub) // joins the event thread: no callback runs after this
	close(h.events)
	h.mu.Lock()
	C.wasmhost_host_free(h.h)
	h.h = nil
	h.mu.Unlock()
	return stopErr
}
