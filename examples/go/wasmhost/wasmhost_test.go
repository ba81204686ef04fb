package wasmhost_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"wasmhost.example/go/internal/mpack"
	"wasmhost.example/go/wasmhost"
)

const (
	echoKey    = "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75"
	missingKey = "MAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
)

var actors = filepath.Join("..", "..", "actors")

func start(t *testing.T) *wasmhost.Host {
	t.Helper()
	host, err := wasmhost.Start(&wasmhost.Config{Labels: map[string]string{"lang": "go"}, MaxInstances: 16})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = host.Close() })
	return host
}

func startActor(t *testing.T, host *wasmhost.Host, name string, count int) string {
	t.Helper()
	pk, err := host.StartActor(filepath.Join(actors, name+".wasm"), count, nil)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	return pk
}

func TestCallEchoesThePayload(t *testing.T) {
	host := start(t)
	echo := startActor(t, host, "echo", 1)
	if echo != echoKey {
		t.Fatalf("echo key %s", echo)
	}
	payload := bytes.Repeat([]byte{7}, 100)
	reply, err := host.Call(echo, "Echo.Echo", payload)
	if err != nil || !bytes.Equal(reply, payload) {
		t.Fatalf("reply %v, err %v", reply, err)
	}
	empty, err := host.Call(echo, "Echo.Echo", nil)
	if err != nil || len(empty) != 0 {
		t.Fatalf("empty reply %v, err %v", empty, err)
	}
	async := <-host.CallAsync(echo, "Echo.Echo", []byte("async"))
	if async.Err != nil || string(async.Reply) != "async" {
		t.Fatalf("async %+v", async)
	}
}

func TestErrorsCarryTheirKind(t *testing.T) {
	host := start(t)
	startActor(t, host, "echo", 1)
	_, err := host.Call(missingKey, "Echo.Echo", nil)
	var werr *wasmhost.Error
	if !errors.As(err, &werr) || werr.Kind != wasmhost.NotFound || !strings.Contains(werr.Message, missingKey) {
		t.Fatalf("want not_found, got %v", err)
	}
	if !errors.Is(err, &wasmhost.Error{Kind: wasmhost.NotFound}) {
		t.Fatalf("errors.Is by kind failed for %v", err)
	}
	if _, err := host.Call(echoKey, "Nope.Nope", nil); !errors.Is(err, &wasmhost.Error{Kind: wasmhost.Runtime}) {
		t.Fatalf("want runtime, got %v", err)
	}
	if _, err := host.StartActorBytes([]byte("junk"), 1, nil); !errors.Is(err, &wasmhost.Error{Kind: wasmhost.Claims}) {
		t.Fatalf("want claims, got %v", err)
	}
	if async := <-host.CallAsync(missingKey, "Echo.Echo", nil); !errors.Is(async.Err, &wasmhost.Error{Kind: wasmhost.NotFound}) {
		t.Fatalf("async: want not_found, got %v", async.Err)
	}
	if _, err := wasmhost.Start(&wasmhost.Config{Lattice: "a.b"}); !errors.Is(err, &wasmhost.Error{Kind: wasmhost.InvalidInput}) {
		t.Fatalf("bad lattice: want invalid_input, got %v", err)
	}
}

func TestEventsArriveOnTheChannelUntilClose(t *testing.T) {
	host, err := wasmhost.Start(&wasmhost.Config{MaxInstances: 16})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev := range host.Events() {
			seen = append(seen, strings.TrimPrefix(ev.Type, "com.wasmcloud.lattice."))
		}
	}()
	startActor(t, host, "echo", 2)
	if err := host.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait() // the channel was closed
	joined := strings.Join(seen, ",")
	if strings.Count(joined, "actor_started") != 2 || strings.Count(joined, "actor_stopped") != 2 || !strings.HasSuffix(joined, "host_stopped") {
		t.Fatalf("events: %s", joined)
	}
	if err := host.Close(); !errors.Is(err, &wasmhost.Error{Kind: wasmhost.Stopped}) {
		t.Fatalf("second close: %v", err)
	}
	if _, err := host.Call(echoKey, "Echo.Echo", nil); !errors.Is(err, &wasmhost.Error{Kind: wasmhost.Stopped}) {
		t.Fatalf("call after close: %v", err)
	}
}

func TestCapabilityHandlerInGoServesKvcounter(t *testing.T) {
	host := start(t)
	var mu sync.Mutex
	store := map[string]int64{}
	err := host.RegisterCapability("wasmcloud:keyvalue", "default", func(call wasmhost.CapabilityCall) ([]byte, error) {
		if call.Operation != "KeyValue.Increment" {
			return nil, fmt.Errorf("unsupported %s", call.Operation)
		}
		key, by, err := mpack.IncrementRequest(call.Payload)
		if err != nil {
			return nil, err
		}
		if key == "counter:fail" {
			return nil, errors.New("the Go store refuses this key")
		}
		mu.Lock()
		defer mu.Unlock()
		store[key] += by
		return mpack.Int(store[key]), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	kv := startActor(t, host, "kvcounter", 2)
	get := func(path string) (int64, string) {
		reply, err := host.Call(kv, "HttpServer.HandleRequest", mpack.HTTPGet(path))
		if err != nil {
			t.Fatalf("call: %v", err)
		}
		status, body, err := mpack.HTTPResponse(reply)
		if err != nil {
			t.Fatalf("response: %v", err)
		}
		return status, string(body)
	}
	for want := 1; want <= 3; want++ {
		if status, body := get("/"); status != 200 || body != fmt.Sprintf(`{"counter":%d}`, want) {
			t.Fatalf("GET / -> %d %s", status, body)
		}
	}
	if status, body := get("/fail"); status != 500 || body != `{"error":"the Go store refuses this key"}` {
		t.Fatalf("GET /fail -> %d %s", status, body)
	}
}

func TestPolicyCanDenyCalls(t *testing.T) {
	host := start(t)
	echo := startActor(t, host, "echo", 1)
	err := host.SetPolicy(func(req wasmhost.PolicyRequest) error {
		if req.Kind == "invoke" && req.Operation == "Echo.Echo" {
			return errors.New("no echo from Go")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := host.Call(echo, "Echo.Echo", nil); !errors.Is(err, &wasmhost.Error{Kind: wasmhost.Denied}) || !strings.Contains(err.Error(), "no echo from Go") {
		t.Fatalf("want denied, got %v", err)
	}
	if err := host.SetPolicy(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := host.Call(echo, "Echo.Echo", nil); err != nil {
		t.Fatalf("after removing the policy: %v", err)
	}
}

func TestEveryLibraryErrorKindIsNamed(t *testing.T) {
	library := wasmhost.LibraryKinds()
	if len(library) != len(wasmhost.Kinds) {
		t.Fatalf("library kinds %v, Go kinds %v", library, wasmhost.Kinds)
	}
	for i, kind := range library {
		if wasmhost.Kinds[i] != kind {
			t.Fatalf("code %d is %q in the library, %q in Go", i+1, kind, wasmhost.Kinds[i])
		}
	}
}

func TestLinksLabelsInventory(t *testing.T) {
	host := start(t)
	startActor(t, host, "echo", 1)
	if err := host.PutLink(echoKey, "VPROVIDER", "wasmcloud:keyvalue", "default", map[string]string{"URL": "redis://x"}); err != nil {
		t.Fatal(err)
	}
	links, err := host.Links()
	if err != nil || len(links) != 1 || links[0].Values["URL"] != "redis://x" {
		t.Fatalf("links %+v, %v", links, err)
	}
	if existed, err := host.DeleteLink(echoKey, "wasmcloud:keyvalue", "default"); err != nil || !existed {
		t.Fatalf("delete: %v %v", existed, err)
	}
	labels, err := host.Labels()
	if err != nil || labels["lang"] != "go" || labels["hostcore.os"] == "" {
		t.Fatalf("labels %v, %v", labels, err)
	}
	inv, err := host.Inventory()
	if err != nil || inv.HostID != host.ID() || len(inv.Actors) != 1 || inv.Actors[0].ID != echoKey {
		t.Fatalf("inventory %+v, %v", inv, err)
	}
	if err := host.ScaleActor(echoKey, 3); err != nil {
		t.Fatal(err)
	}
	if inv, _ := host.Inventory(); len(inv.Actors[0].Instances) != 3 {
		t.Fatalf("after scale: %+v", inv)
	}
	if err := host.StopActor(echoKey, 0); err != nil {
		t.Fatal(err)
	}
	if err := host.StopActor(echoKey, 0); !errors.Is(err, &wasmhost.Error{Kind: wasmhost.NotFound}) {
		t.Fatalf("stop twice: %v", err)
	}
}

func TestMain(m *testing.M) {
	if _, err := os.Stat(filepath.Join(actors, "echo.wasm")); err != nil {
		fmt.Fprintln(os.Stderr, "example actors missing:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
