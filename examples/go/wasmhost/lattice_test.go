package wasmhost_test

import (
	"errors"
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
