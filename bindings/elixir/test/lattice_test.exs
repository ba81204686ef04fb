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

  test "subscribe/2 sends the picture's changes after the snapshot it returns" do
    host = test_host()
    {:ok, lattice} = Lattice.start_link(host: host)
    assert {:ok, %{"seq" => seq, "hosts" => [%{"id" => id}]}} = Lattice.subscribe(lattice)
    assert id == host.id
    Wasmhost.start_actor!(host, actor_path("echo"))

    assert_receive {:wasmhost_lattice_change,
                    %{"kind" => "actor_added", "seq" => later} = change},
                   10_000

    assert later > seq
    assert change["actor"]["public_key"] == echo_key()
    assert Lattice.snapshot(lattice)["seq"] >= later
  end

  test "bad observer options are refused with the core's message" do
    host = test_host()
    Process.flag(:trap_exit, true)

    assert {:error, {:invalid_input, message}} =
             Lattice.start_link(host: host, observer: [no_such_option: 1])

    assert message =~ "no_such_option"
  end

  test "start_link needs a host" do
    assert_raise ArgumentError, fn -> Lattice.start_link([]) end
    assert_raise ArgumentError, fn -> Lattice.start_link(nats_url: 42) end
  end
end
