package wasmhost_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"wasmhost.example/go/wasmhost"
)

// nextChange waits for the first change of kind on changes.
func nextChange(t *testing.T, changes <-chan wasmhost.Change, kind string) wasmhost.Change {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case c, ok := <-changes:
			if !ok {
				t.Fatalf("changes closed before %s", kind)
			}
			if c.Kind == kind {
				return c
			}
		case <-deadline:
			t.Fatalf("no %s change within 10 s", kind)
		}
	}
}

func TestObserverFollowsTheHostsLattice(t *testing.T) {
	host := start(t)
	if _, err := wasmhost.ObserveHost(host, map[string]interface{}{"no_such_option": 1}); !errors.Is(err, &wasmhost.Error{Kind: wasmhost.InvalidInput}) {
		t.Fatalf("unknown option: %v", err)
	}
	obs, err := wasmhost.ObserveHost(host, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, changes, err := obs.Watch()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Hosts) != 1 || snap.Hosts[0].ID != host.ID() || snap.Hosts[0].Labels["lang"] != "go" {
		t.Fatalf("first snapshot %+v", snap)
	}

	startActor(t, host, "echo", 1)
	added := nextChange(t, changes, "actor_added")
	if added.Seq <= snap.Seq || len(added.Raw) == 0 {
		t.Fatalf("actor_added %+v after seq %d", added, snap.Seq)
	}
	if err := host.ScaleActor(echoKey, 3); err != nil {
		t.Fatal(err)
	}
	// Instances join one change at a time: wait for the picture to show all three.
	for {
		nextChange(t, changes, "actor_scaled")
		now, err := obs.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		actors := now.Hosts[0].Actors
		if len(actors) != 1 || actors[0].PublicKey != echoKey || now.Seq < added.Seq {
			t.Fatalf("snapshot after scale %+v", now)
		}
		if len(actors[0].Instances) == 3 {
			break
		}
	}

	if err := obs.Close(); err != nil {
		t.Fatal(err)
	}
	for range changes {
	} // closed by Close
	if _, err := obs.Snapshot(); !errors.Is(err, &wasmhost.Error{Kind: wasmhost.Stopped}) {
		t.Fatalf("snapshot after close: %v", err)
	}
	if err := obs.Close(); !errors.Is(err, &wasmhost.Error{Kind: wasmhost.Stopped}) {
		t.Fatalf("second close: %v", err)
	}
}

// startNATS runs nats-server -js on a free loopback port (stopped at the end of the test) and
// returns its URL. The binary comes from PATH or the repository's .venv (scripts/setup.sh).
func startNATS(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		bin = filepath.Join("..", "..", "..", ".venv", "bin", "nats-server")
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("nats-server is not installed (scripts/setup.sh puts it in .venv/bin)")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-sd", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "nats://" + addr
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nats-server did not listen on %s", addr)
	return ""
}

func TestObserverOverNATSSeesEveryHost(t *testing.T) {
	url := startNATS(t)
	lattice := fmt.Sprintf("go-observer-%d", time.Now().UnixNano())
	hosts := make([]*wasmhost.Host, 2)
	for i := range hosts {
		host, err := wasmhost.Start(&wasmhost.Config{Lattice: lattice, NatsURL: url, Labels: map[string]string{"n": fmt.Sprint(i)}})
		if err != nil {
			t.Fatalf("start host %d: %v", i, err)
		}
		t.Cleanup(func() { _ = host.Close() })
		hosts[i] = host
	}
	options := map[string]interface{}{"lattice": lattice, "ping_timeout_ms": 500}
	obs, err := wasmhost.ObserveNATS(url, options)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	fromHost, err := wasmhost.ObserveHost(hosts[0], map[string]interface{}{"ping_timeout_ms": 500})
	if err != nil {
		t.Fatal(err)
	}
	defer fromHost.Close()
	snap, changes, err := fromHost.Watch()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Hosts) != 2 {
		t.Fatalf("the host's observer sees %d hosts: %+v", len(snap.Hosts), snap)
	}

	// An actor on the second host shows up in the first host's observer and in the NATS one.
	startActor(t, hosts[1], "echo", 2)
	nextChange(t, changes, "actor_added")
	deadline := time.Now().Add(10 * time.Second)
	for {
		now, err := obs.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		instances := 0
		for _, h := range now.Hosts {
			if h.ID == hosts[1].ID() {
				for _, a := range h.Actors {
					if a.PublicKey == echoKey {
						instances = len(a.Instances)
					}
				}
			}
		}
		if len(now.Hosts) == 2 && instances == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the NATS observer never saw echo x2 on host %s: %+v", hosts[1].ID(), now)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
