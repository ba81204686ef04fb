defmodule Wasmhost.EventsTest do
  use ExUnit.Case, async: true
  import Wasmhost.TestHelpers

  defmacrop assert_event(host_id, name, timeout \\ 5_000) do
    quote do
      type = "com.wasmcloud.lattice." <> unquote(name)

      assert_receive {:wasmhost_event, ^unquote(host_id), %{"type" => ^type} = event},
                     unquote(timeout)

      event
    end
  end

  test "lifecycle events arrive as messages with the CloudEvent fields" do
    host = test_host()
    id = host.id
    :ok = Wasmhost.subscribe_events(host)

    actor = Wasmhost.start_actor!(host, actor_path("echo"), annotations: %{"k" => "v"})
    [instance] = actor.instances
    started = assert_event(id, "actor_started")
    assert started["source"] == id
    assert started["specversion"] == "1.0"
    assert Wasmhost.event_name(started) == "actor_started"

    assert %{
             "public_key" => pk,
             "instance_id" => iid,
             "annotations" => %{"k" => "v"},
             "claims" => %{"name" => "Echo"}
           } = started["data"]

    assert pk == echo_key()
    assert iid == instance.instance_id

    :ok =
      Wasmhost.put_link(host,
        actor_id: echo_key(),
        provider_id: "VPROVIDER",
        contract_id: "wasmcloud:keyvalue"
      )

    link = assert_event(id, "linkdef_set")
    assert link["data"]["link_name"] == "default"
    {:ok, true} = Wasmhost.delete_link(host, echo_key(), "wasmcloud:keyvalue")
    assert_event(id, "linkdef_deleted")

    {:error, _} = Wasmhost.start_actor(host, fixture_path("trap"))
    assert_event(id, "actor_start_failed")

    :ok = Wasmhost.stop_actor(host, echo_key())
    stopped = assert_event(id, "actor_stopped")
    assert stopped["data"]["instance_id"] == iid

    :ok = Wasmhost.stop_host(host)
    assert_event(id, "host_stopped")
  end

  test "heartbeats arrive at the configured interval" do
    host = test_host(heartbeat_interval: 100)
    id = host.id
    :ok = Wasmhost.subscribe_events(host, self())
    beat = assert_event(id, "host_heartbeat")
    assert %{"actors" => [], "uptime_seconds" => _, "version" => _} = beat["data"]
    Wasmhost.stop_host(host)
  end

  test "several subscribers each get every event; a dead one does not disturb the others" do
    host = test_host()
    id = host.id
    dead = spawn(fn -> :ok end)
    :ok = Wasmhost.subscribe_events(host, dead)
    :ok = Wasmhost.subscribe_events(host, self())
    other = self()

    relay =
      spawn_link(fn ->
        receive do
          {:wasmhost_event, _, %{"type" => "com.wasmcloud.lattice.actor_started"}} ->
            send(other, :relayed)
        end
      end)

    :ok = Wasmhost.subscribe_events(host, relay)

    Wasmhost.start_actor!(host, actor_path("echo"))
    assert_event(id, "actor_started")
    assert_receive :relayed, 5_000
    Wasmhost.stop_host(host)
  end

  test "subscribing to a stopped host is an error; non-local or non-pid subscribers raise" do
    host = test_host()
    :ok = Wasmhost.stop_host(host)
    assert {:error, {:stopped, _}} = Wasmhost.subscribe_events(host, self())
    assert_raise ArgumentError, fn -> Wasmhost.subscribe_events(host, :me) end
  end
end
