defmodule Wasmhost.LatticeTest do
  use ExUnit.Case, async: true
  import Wasmhost.TestHelpers
  alias Wasmhost.Lattice

  test "seeds from the inventory and follows actors, scaling and links" do
    host = test_host(friendly_name: "lattice-host", labels: %{"zone" => "z1"})
    # Running before the monitor starts: must come from the inventory seed.
    Wasmhost.start_actor!(host, actor_path("pong"))

    :ok =
      Wasmhost.put_link(host,
        actor_id: echo_key(),
        provider_id: "VP",
        contract_id: "wasmcloud:keyvalue"
      )

    {:ok, lattice} = Lattice.start_link(host: host)
    assert %{} = hosts = Lattice.hosts(lattice)
    assert %{friendly_name: "lattice-host", labels: %{"zone" => "z1"}} = hosts[host.id]
    assert [%{name: "Pong", count: 1}] = Map.values(Lattice.actors(lattice))
    echo_key = echo_key()

    assert %{{^echo_key, "wasmcloud:keyvalue", "default"} => %{provider_id: "VP"}} =
             Lattice.links(lattice)

    Wasmhost.start_actor!(host, actor_path("echo"), count: 2, annotations: %{"a" => "1"})
    eventually(fn -> match?(%{count: 2}, Lattice.actors(lattice)[echo_key()]) end)
    echo = Lattice.actors(lattice)[echo_key()]
    assert echo.name == "Echo"
    assert echo.revision == 1

    assert Enum.all?(
             Map.values(echo.instances),
             &(&1 == %{host_id: host.id, annotations: %{"a" => "1"}})
           )

    Wasmhost.scale_actor!(host, echo_key(), 1)
    eventually(fn -> match?(%{count: 1}, Lattice.actors(lattice)[echo_key()]) end)
    Wasmhost.stop_actor!(host, echo_key())
    eventually(fn -> not Map.has_key?(Lattice.actors(lattice), echo_key()) end)

    {:ok, true} = Wasmhost.delete_link(host, echo_key(), "wasmcloud:keyvalue")
    eventually(fn -> Lattice.links(lattice) == %{} end)

    :ok = Wasmhost.stop_host(host)
    eventually(fn -> Lattice.hosts(lattice) == %{} and Lattice.actors(lattice) == %{} end)
  end

  test "the event reducer: heartbeats reconcile a host's instances" do
    state = %{hosts: %{}, actors: %{}, links: %{}}

    started = %{
      "public_key" => "MA",
      "instance_id" => "i1",
      "image_ref" => "file:///a.wasm",
      "annotations" => %{},
      "claims" => %{"name" => "A", "revision" => 3}
    }

    state = Lattice.apply_event(state, "actor_started", "N1", started)
    state = Lattice.apply_event(state, "actor_started", "N1", %{started | "instance_id" => "i2"})
    # The same event twice counts once.
    state = Lattice.apply_event(state, "actor_started", "N1", %{started | "instance_id" => "i2"})
    assert state.actors["MA"].count == 2

    # A heartbeat that lists only i2 (and a new i3) is the truth for host N1.
    beat = %{
      "actors" => [
        %{"public_key" => "MA", "instance_id" => "i2"},
        %{"public_key" => "MA", "instance_id" => "i3"}
      ],
      "friendly_name" => "n1",
      "labels" => %{}
    }

    state = Lattice.apply_event(state, "host_heartbeat", "N1", beat)
    assert state.actors["MA"].instances |> Map.keys() |> Enum.sort() == ["i2", "i3"]
    assert state.hosts["N1"].friendly_name == "n1"

    state =
      Lattice.apply_event(state, "actor_updated", "N1", %{"public_key" => "MA", "revision" => 4})

    assert state.actors["MA"].revision == 4
    state = Lattice.apply_event(state, "host_stopped", "N1", %{})
    assert state.actors["MA"].count == 0
    assert state.hosts == %{}
    assert Lattice.apply_event(state, "something_new", "N1", %{}) == state
  end

  test "start_link needs a host" do
    assert_raise ArgumentError, fn -> Lattice.start_link([]) end
  end
end
