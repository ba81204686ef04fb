// Command embed runs a wasmhost host inside a Go program: echo and kvcounter actors, a key-value
// capability written in Go, the lattice events printed as they arrive.
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"wasmhost.example/go/internal/mpack"
	"wasmhost.example/go/wasmhost"
)

func main() {
	dir := filepath.Join("..", "actors")
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	host, err := wasmhost.Start(&wasmhost.Config{Labels: map[string]string{"example": "go"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("host", host.ID(), "started")
	var printed sync.WaitGroup
	printed.Add(1)
	go func() {
		defer printed.Done()
		for ev := range host.Events() {
			fmt.Println("event:", strings.TrimPrefix(ev.Type, "com.wasmcloud.lattice."))
		}
	}()

	var mu sync.Mutex
	counters := map[string]int64{}
	err = host.RegisterCapability("wasmcloud:keyvalue", "default", func(call wasmhost.CapabilityCall) ([]byte, error) {
		key, by, err := mpack.IncrementRequest(call.Payload)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		counters[key] += by
		return mpack.Int(counters[key]), nil
	})
	if err != nil {
		log.Fatal(err)
	}
	echo, err := host.StartActor(filepath.Join(dir, "echo.wasm"), 1, nil)
	if err != nil {
		log.Fatal(err)
	}
	kv, err := host.StartActor(filepath.Join(dir, "kvcounter.wasm"), 1, nil)
	if err != nil {
		log.Fatal(err)
	}
	reply, err := host.Call(echo, "Echo.Echo", []byte("hello from Go"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("echo replied: %s\n", reply)
	for i := 0; i < 3; i++ {
		reply, err := host.Call(kv, "HttpServer.HandleRequest", mpack.HTTPGet("/"))
		if err != nil {
			log.Fatal(err)
		}
		status, body, err := mpack.HTTPResponse(reply)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("kvcounter GET / -> %d %s\n", status, body)
	}
	if err := host.Close(); err != nil {
		log.Fatal(err)
	}
	printed.Wait()
	fmt.Println("stopped cleanly")
}
