defmodule Wasmhost.LatticeNatsTest do
  # Two hosts of this VM in one NATS lattice (a real nats-server with JetStream).
  # Excluded with `mix test --exclude nats`.
  use ExUnit.Case, async: true
  import Wasmhost.TestHelpers
  alias Wasmhost.{Lattice, Msgpack}

  @moduletag :nats
  @moduletag timeout: 120_000
  # Example cluster seed from the shared test vectors: both hosts sign and accept with it.
  @cluster_seed "SCAKUNN72IFVVHIEKSS76LBAJOWFE4FRIDNSCVHFUASRG3FZSGWE6WVUJU"

  setup do
    {url, stop} = start_nats_server()
    on_exit(stop)
    lattice = "elixir-#{System.unique_integer([:positive])}"
    opts = [nats: url, lattice: lattice, cluster_seed: @cluster_seed]
    a = test_host([friendly_name: "host-a"] ++ opts)
    b = test_host([friendly_name: "host-b"] ++ opts)

    on_exit(fn ->
      Wasmhost.stop_host(a)
      Wasmhost.stop_host(b)
    end)

    {:ok, a: a, b: b}
  end

  test "a call from one host reaches an actor on the other; links are shared", %{a: a, b: b} do
    {:ok, lattice} = Lattice.start_link(hosts: [a, b])
    Wasmhost.start_actor!(b, actor_path("echo"))

    # B's actor becomes reachable from A once B serves its RPC subject.
    eventually(fn ->
      Wasmhost.call(a, echo_key(), "Echo.Echo", "over nats") == {:ok, "over nats"}
    end)

    assert {:ok, big} = Wasmhost.call(a, echo_key(), "Echo.Echo", :binary.copy("x", 200_000))
    assert byte_size(big) == 200_000

    assert Lattice.hosts(lattice) |> Map.keys() |> Enum.sort() == Enum.sort([a.id, b.id])
    b_id = b.id
    assert [%{host_id: ^b_id}] = Map.values(Lattice.actors(lattice)[echo_key()].instances)

    # A link put on A arrives at B through the lattice's link bucket.
    :ok =
      Wasmhost.put_link(a,
        actor_id: echo_key(),
        provider_id: "VPROV",
        contract_id: "wasmcloud:keyvalue"
      )

    eventually(fn -> match?([%{provider_id: "VPROV"}], Wasmhost.links(b)) end)

    :ok = Wasmhost.stop_actor(b, echo_key())

    eventually(fn ->
      match?({:error, {:not_found, _}}, Wasmhost.call(a, echo_key(), "Echo.Echo", "x"))
    end)
  end

  test "lattice events: another host's events reach the subscriber and Wasmhost.Lattice", %{
    a: a,
    b: b
  } do
    :ok = Wasmhost.subscribe_lattice_events(a, self())

    # Only A is given: B is seen through the lattice's events alone, like a host in another process.
    {:ok, lattice} = Lattice.start_link(host: a)
    Wasmhost.start_actor!(b, actor_path("echo"))

    a_id = a.id
    b_id = b.id
    started = "com.wasmcloud.lattice.actor_started"

    assert_receive {:wasmhost_event, ^a_id,
                    %{"type" => ^started, "source" => ^b_id, "data" => data}},
                   10_000

    assert data["public_key"] == echo_key()

    eventually(fn ->
      match?(
        [%{host_id: ^b_id}],
        Map.values((Lattice.actors(lattice)[echo_key()] || %{instances: %{}}).instances)
      )
    end)

    assert Lattice.actors(lattice)[echo_key()].count == 1
    :ok = Wasmhost.stop_host(a)
    assert {:error, {:stopped, _}} = Wasmhost.subscribe_lattice_events(a, self())
    assert_raise ArgumentError, fn -> Wasmhost.subscribe_lattice_events(a, :me) end
  end

  test "an Elixir capability on one host serves an actor called from the other", %{a: a, b: b} do
    Wasmhost.start_actor!(b, actor_path("kvcounter"))
    {:ok, store} = Agent.start_link(fn -> 0 end)

    handler =
      spawn_link(fn ->
        Stream.repeatedly(fn ->
          receive do
            {:wasmhost_host_call, ref, %{operation: "KeyValue.Increment"}} ->
              Wasmhost.reply(
                ref,
                {:ok, Msgpack.encode(Agent.get_and_update(store, &{&1 + 1, &1 + 1}))}
              )
          end
        end)
        |> Stream.run()
      end)

    :ok = Wasmhost.register_capability(b, "wasmcloud:keyvalue", handler)

    request = http_request("GET", "/")
    call = fn -> Wasmhost.call(a, kvcounter_key(), "HttpServer.HandleRequest", request) end
    {:ok, reply} = eventually(fn -> match?({:ok, _}, call.()) && call.() end)
    assert %{"statusCode" => 200, "body" => body} = Msgpack.decode!(reply)
    assert body =~ ~r/^\{"counter":\d+\}$/
    assert Agent.get(store, & &1) >= 2
  end
end
