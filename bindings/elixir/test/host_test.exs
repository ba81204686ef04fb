defmodule Wasmhost.HostTest do
  use ExUnit.Case, async: true
  import Wasmhost.TestHelpers

  test "every core error kind is a documented Wasmhost.Error kind, and none is missing" do
    assert Wasmhost.Native.error_kinds() == Wasmhost.Error.kinds()
  end

  test "starts an embedded host with an id, labels, a friendly name and an empty inventory" do
    {:ok, host} =
      Wasmhost.start_host(
        labels: %{"region" => "test"},
        friendly_name: "elixir-host",
        max_instances: 16
      )

    assert "N" <> _ = Wasmhost.host_id(host)
    assert String.length(host.id) == 56

    labels = Wasmhost.labels(host)
    assert labels["region"] == "test"
    assert labels["hostcore.os"] == "linux"
    assert Wasmhost.friendly_name(host) == "elixir-host"

    {:ok, inv} = Wasmhost.inventory(host)
    assert inv["host_id"] == host.id
    assert inv["friendly_name"] == "elixir-host"
    assert inv["actors"] == []
    assert inv["labels"]["region"] == "test"

    refute Wasmhost.stopped?(host)
    assert :ok = Wasmhost.stop_host(host)
    assert Wasmhost.stopped?(host)
  end

  test "a second stop is an error of kind :stopped; stopped hosts refuse work" do
    host = test_host()
    :ok = Wasmhost.stop_host(host)
    assert {:error, {:stopped, message}} = Wasmhost.stop_host(host)
    assert message =~ "stopped"

    assert {:error, {:stopped, _}} =
             Wasmhost.start_actor(host, Wasmhost.TestHelpers.actor_path("echo"))

    assert_raise Wasmhost.Error, ~r/^stopped: /, fn -> Wasmhost.call!(host, "x", "Op", "") end
  end

  test "a given host seed fixes the host id" do
    seed = "SNAPBAMPJ6LFOAEFYCI6KLIVLS4ZFFCUG2FNEFJYCQE5UJEQP4UI3EQRNI"
    {:ok, a} = Wasmhost.start_host(host_seed: seed, max_instances: 16)
    :ok = Wasmhost.stop_host(a)
    {:ok, b} = Wasmhost.start_host(host_seed: seed, max_instances: 16)
    assert a.id == b.id
    :ok = Wasmhost.stop_host(b)
  end

  test "invalid seeds are reported as :invalid_input" do
    assert {:error, {:invalid_input, message}} = Wasmhost.start_host(host_seed: "not-a-seed")
    assert message =~ "host seed"

    assert_raise Wasmhost.Error, ~r/invalid_input/, fn ->
      Wasmhost.start_host!(cluster_seed: "x")
    end
  end

  test "nats: URLs are checked by the core" do
    assert {:error, {:invalid_input, message}} = Wasmhost.start_host(nats: "http://example:1")
    assert message =~ "scheme"
    assert {:error, {:invalid_input, _}} = Wasmhost.start_host(nats: [url: "nats://host:port"])
    # Every URL of a list is checked.
    assert {:error, {:invalid_input, message}} =
             Wasmhost.start_host(nats: ["nats://127.0.0.1:4222", "http://example:1"])

    assert message =~ "scheme"
  end

  test "bad options raise ArgumentError" do
    assert_raise ArgumentError, ~r/invalid host option :colour/, fn ->
      Wasmhost.start_host(colour: "blue")
    end

    assert_raise ArgumentError, fn -> Wasmhost.start_host(labels: "x") end
    assert_raise ArgumentError, fn -> Wasmhost.start_host(invocation_timeout: -1) end
    assert_raise ArgumentError, fn -> Wasmhost.start_host(:nope) end
    assert_raise ArgumentError, fn -> Wasmhost.start_host(nats: [port: 1]) end
  end

  test "functions given something that is not a host raise ArgumentError" do
    assert_raise ArgumentError, ~r/expected a Wasmhost.Host/, fn -> Wasmhost.stop_host(:nope) end
    assert_raise ArgumentError, fn -> Wasmhost.call(make_ref(), "a", "b", "c") end
    assert_raise ArgumentError, fn -> Wasmhost.inventory(%{resource: 1}) end
    # A forged struct around something that is not the host resource: the NIF says badarg.
    assert_raise ArgumentError, fn ->
      Wasmhost.inventory(%Wasmhost.Host{resource: make_ref(), id: "N"})
    end
  end
end
