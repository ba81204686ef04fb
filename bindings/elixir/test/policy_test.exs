defmodule Wasmhost.PolicyTest do
  use ExUnit.Case, async: true
  import Wasmhost.TestHelpers

  # Permits everything except starting kvcounter and HandleRequest calls; reports what it saw.
  defp policy_loop(test) do
    receive do
      {:wasmhost_policy, ref, request} ->
        send(test, {:asked, request})

        verdict =
          cond do
            request.kind == "start_actor" and "wasmcloud:keyvalue" in request.capabilities ->
              {:error, "no key-value actors here"}

            request.kind == "invoke" and request.operation == "HttpServer.HandleRequest" ->
              {:error, "no HTTP today"}

            true ->
              {:ok, ""}
          end

        :ok = Wasmhost.reply(ref, verdict)
        policy_loop(test)
    end
  end

  test "an Elixir process approves and denies starts and invocations" do
    host = test_host()
    test = self()
    policy = spawn_link(fn -> policy_loop(test) end)
    :ok = Wasmhost.set_policy(host, policy)

    assert {:error, {:denied, msg}} = Wasmhost.start_actor(host, actor_path("kvcounter"))
    assert msg =~ "no key-value actors here"

    assert_received {:asked,
                     %{
                       kind: "start_actor",
                       capabilities: ["wasmcloud:httpserver", "wasmcloud:keyvalue"]
                     }}

    Wasmhost.start_actor!(host, actor_path("echo"))
    assert {:ok, "fine"} = Wasmhost.call(host, echo_key(), "Echo.Echo", "fine")
    echo_key = echo_key()

    assert_received {:asked,
                     %{kind: "invoke", target: ^echo_key, operation: "Echo.Echo", source: source}}

    assert source == host.id

    assert {:error, {:denied, msg}} =
             Wasmhost.call(host, echo_key(), "HttpServer.HandleRequest", http_request("GET", "/"))

    assert msg =~ "no HTTP today"

    :ok = Wasmhost.set_policy(host, nil)

    assert {:ok, _} =
             Wasmhost.call(host, echo_key(), "HttpServer.HandleRequest", http_request("GET", "/"))

    Wasmhost.stop_host(host)
  end

  test "a dead policy process denies (fails closed)" do
    host = test_host()
    dead = spawn(fn -> :ok end)
    ref = Process.monitor(dead)
    assert_receive {:DOWN, ^ref, _, _, _}
    :ok = Wasmhost.set_policy(host, dead, timeout: 60_000)
    assert {:error, {:denied, msg}} = Wasmhost.start_actor(host, actor_path("echo"))
    assert msg =~ "not alive"
    assert_raise ArgumentError, fn -> Wasmhost.set_policy(host, :nobody) end
    assert_raise ArgumentError, fn -> Wasmhost.set_policy(host, self(), timeout: 0) end
    Wasmhost.stop_host(host)
  end
end
