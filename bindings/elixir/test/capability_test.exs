defmodule Wasmhost.CapabilityTest do
  use ExUnit.Case, async: true
  import Wasmhost.TestHelpers
  alias Wasmhost.Msgpack

  setup do
    host = test_host()
    Wasmhost.start_actor!(host, actor_path("kvcounter"))
    on_exit(fn -> Wasmhost.stop_host(host) end)
    {:ok, host: host}
  end

  # A key-value handler over an Agent: answers KeyValue.Increment, reports other operations.
  defp kv_loop(store, test) do
    receive do
      {:wasmhost_host_call, ref, %{operation: "KeyValue.Increment", payload: payload} = call} ->
        send(test, {:call, call})
        %{"key" => key, "value" => by} = Msgpack.decode!(payload)

        value =
          Agent.get_and_update(store, fn m ->
            n = Map.get(m, key, 0) + by
            {n, Map.put(m, key, n)}
          end)

        :ok = Wasmhost.reply(ref, {:ok, Msgpack.encode(value)})
        kv_loop(store, test)

      {:wasmhost_host_call, ref, %{operation: op}} ->
        Wasmhost.reply(ref, {:error, "unsupported: #{op}"})
        kv_loop(store, test)
    end
  end

  defp counter(host, path) do
    {:ok, reply} =
      Wasmhost.call(host, kvcounter_key(), "HttpServer.HandleRequest", http_request("GET", path))

    %{"statusCode" => status, "body" => body} = Msgpack.decode!(reply)
    {status, body}
  end

  test "an Elixir process answers KeyValue.Increment for kvcounter", %{host: host} do
    {:ok, store} = Agent.start_link(fn -> %{} end)
    test = self()
    handler = spawn_link(fn -> kv_loop(store, test) end)
    assert :ok = Wasmhost.register_capability(host, "wasmcloud:keyvalue", handler)

    assert counter(host, "/") == {200, ~s({"counter":1})}
    assert counter(host, "/") == {200, ~s({"counter":2})}
    assert counter(host, "/a/b") == {200, ~s({"counter":1})}
    assert Agent.get(store, & &1) == %{"counter" => 2, "counter:a:b" => 1}

    assert_received {:call, call}
    assert call.actor_id == kvcounter_key()
    assert call.contract_id == "wasmcloud:keyvalue"
    assert call.link_name == "default"
    assert call.operation == "KeyValue.Increment"
    assert Msgpack.decode!(call.payload) == %{"key" => "counter", "value" => 1}
  end

  test "an {:error, text} reply reaches the actor as its host error", %{host: host} do
    handler =
      spawn_link(fn ->
        receive do
          {:wasmhost_host_call, ref, _} -> Wasmhost.reply(ref, {:error, "store is read-only"})
        end
      end)

    :ok = Wasmhost.register_capability(host, "wasmcloud:keyvalue", handler, "default")
    assert counter(host, "/") == {500, ~s({"error":"store is read-only"})}
  end

  test "a dead handler process gives the actor an error instead of hanging", %{host: host} do
    dead = spawn(fn -> :ok end)
    ref = Process.monitor(dead)
    assert_receive {:DOWN, ^ref, _, _, _}
    :ok = Wasmhost.register_capability(host, "wasmcloud:keyvalue", dead)

    {500, body} = counter(host, "/")
    assert body =~ "not alive"
  end

  test "a handler that exits without replying releases the call at once", %{host: host} do
    handler = spawn(fn -> receive do: ({:wasmhost_host_call, _ref, _} -> exit(:boom)) end)
    # A long timeout: only the dropped reply reference can end this call quickly.
    :ok =
      Wasmhost.register_capability(host, "wasmcloud:keyvalue", handler, "default", timeout: 60_000)

    {500, body} = counter(host, "/")
    assert body =~ "exited or dropped the request without replying"
  end

  test "a handler that never replies times out; a late reply is refused", %{host: host} do
    test = self()

    handler =
      spawn_link(fn ->
        receive do
          {:wasmhost_host_call, ref, _} ->
            send(test, {:holding, ref})
            receive do: (:never -> :ok)
        end
      end)

    :ok =
      Wasmhost.register_capability(host, "wasmcloud:keyvalue", handler, "default", timeout: 200)

    {500, body} = counter(host, "/")
    assert body =~ "did not reply within 200 ms"
    assert_received {:holding, ref}
    assert {:error, :not_waiting} = Wasmhost.reply(ref, {:ok, Msgpack.encode(1)})
  end

  test "a second reply is refused", %{host: host} do
    test = self()

    handler =
      spawn_link(fn ->
        receive do
          {:wasmhost_host_call, ref, _} ->
            send(test, {:first, Wasmhost.reply(ref, {:ok, Msgpack.encode(7)})})
            send(test, {:second, Wasmhost.reply(ref, {:ok, Msgpack.encode(8)})})
        end
      end)

    :ok = Wasmhost.register_capability(host, "wasmcloud:keyvalue", handler)
    assert counter(host, "/") == {200, ~s({"counter":7})}
    assert_received {:first, :ok}
    assert_received {:second, {:error, :not_waiting}}
  end

  test "without a handler the actor is told the link is missing; unregister", %{host: host} do
    {500, body} = counter(host, "/")
    assert body =~ "missing link definition"

    :ok = Wasmhost.register_capability(host, "wasmcloud:keyvalue", self())
    assert Wasmhost.unregister_capability(host, "wasmcloud:keyvalue")
    refute Wasmhost.unregister_capability(host, "wasmcloud:keyvalue")
  end

  test "bad arguments raise ArgumentError", %{host: host} do
    assert_raise ArgumentError, fn ->
      Wasmhost.register_capability(host, "wasmcloud:keyvalue", :nope)
    end

    assert_raise ArgumentError, fn ->
      Wasmhost.register_capability(host, "c:x", self(), "default", timeout: 0)
    end

    assert_raise ArgumentError, fn -> Wasmhost.register_capability(host, :atom, self()) end
    assert {:error, {:invalid_input, _}} = Wasmhost.register_capability(host, "", self())
    assert_raise ArgumentError, fn -> Wasmhost.reply(make_ref(), {:ok, "x"}) end
    assert_raise ArgumentError, fn -> Wasmhost.reply(make_ref(), :ok) end
  end
end
