defmodule Wasmhost.ActorsTest do
  use ExUnit.Case, async: true
  import Wasmhost.TestHelpers

  setup do
    host = test_host()
    on_exit(fn -> Wasmhost.stop_host(host) end)
    {:ok, host: host}
  end

  test "starts echo from a path, calls Echo.Echo and HandleRequest", %{host: host} do
    {:ok, actor} =
      Wasmhost.start_actor(host, actor_path("echo"), count: 2, annotations: %{"app" => "t"})

    assert actor.public_key == echo_key()
    assert actor.name == "Echo"
    assert actor.revision == 1
    assert actor.caps == ["wasmcloud:httpserver"]
    assert actor.image_ref == "file://" <> actor_path("echo")
    assert [%{annotations: %{"app" => "t"}}, %{instance_id: _}] = actor.instances

    assert {:ok, "hello"} = Wasmhost.call(host, echo_key(), "Echo.Echo", "hello")
    assert {:ok, ""} = Wasmhost.call(host, echo_key(), "Echo.Echo", "")
    assert Wasmhost.call!(host, echo_key(), "Echo.Echo", ["io", ?d, "ata"]) == "iodata"
    big = :binary.copy(<<0, 255>>, 100_000)
    assert {:ok, ^big} = Wasmhost.call(host, echo_key(), "Echo.Echo", big)

    {:ok, reply} =
      Wasmhost.call(
        host,
        echo_key(),
        "HttpServer.HandleRequest",
        http_request("POST", "/foo", "hi")
      )

    %{"statusCode" => 200, "body" => body} = Wasmhost.Msgpack.decode!(reply)
    assert body == ~s({"method":"POST","path":"/foo","query_string":"","body":"hi","body_len":2})
  end

  test "starts from bytes and from {:file, path}; lists actors and inventory", %{host: host} do
    {:ok, _} = Wasmhost.start_actor(host, File.read!(actor_path("echo")))
    {:ok, pong} = Wasmhost.start_actor(host, {:file, actor_path("pong")})
    assert pong.call_alias == "wasmhost/pong"

    assert [%{public_key: _}, %{public_key: _}] = Wasmhost.actors(host)
    {:ok, inv} = Wasmhost.inventory(host)
    names = inv["actors"] |> Enum.map(& &1["name"]) |> Enum.sort()
    assert names == ["Echo", "Pong"]
    echo = Enum.find(inv["actors"], &(&1["id"] == echo_key()))
    assert echo["image_ref"] == "n/a"
    assert [%{"revision" => 1}] = echo["instances"]

    # The call alias reaches pong too.
    assert {:ok, "pong:x"} = Wasmhost.call(host, "wasmhost/pong", "Echo.Echo", "x")
  end

  test "scale, stop and errors of kind :not_found", %{host: host} do
    Wasmhost.start_actor!(host, actor_path("echo"))
    assert {:ok, %{instances: instances}} = Wasmhost.scale_actor(host, echo_key(), 3)
    assert length(instances) == 3
    assert %{instances: [_]} = Wasmhost.scale_actor!(host, echo_key(), 1)

    assert :ok = Wasmhost.stop_actor(host, echo_key())
    assert Wasmhost.actors(host) == []
    assert {:error, {:not_found, _}} = Wasmhost.call(host, echo_key(), "Echo.Echo", "x")
    assert {:error, {:not_found, _}} = Wasmhost.stop_actor(host, echo_key())
    assert {:error, {:not_found, _}} = Wasmhost.scale_actor(host, echo_key(), 2)
    assert_raise Wasmhost.Error, ~r/not_found/, fn -> Wasmhost.stop_actor!(host, echo_key()) end
  end

  test "stop by annotations stops only the matching instances", %{host: host} do
    Wasmhost.start_actor!(host, actor_path("echo"), annotations: %{"group" => "a"})
    Wasmhost.start_actor!(host, actor_path("echo"), count: 2, annotations: %{"group" => "b"})
    :ok = Wasmhost.stop_actor(host, echo_key(), annotations: %{"group" => "b"})
    assert [%{instances: [%{annotations: %{"group" => "a"}}]}] = Wasmhost.actors(host)
  end

  test "update replaces the module with a higher revision", %{host: host} do
    tmp = Path.join(System.tmp_dir!(), "wasmhost-elixir-#{System.unique_integer([:positive])}")
    File.mkdir_p!(tmp)
    rev2 = sign_example("echo", 2, tmp, ["--name", "Echo", "--cap", "wasmcloud:httpserver"])

    Wasmhost.start_actor!(host, actor_path("echo"), count: 2)

    assert {:ok, %{revision: 2, instances: [_, _]}} =
             Wasmhost.update_actor(host, echo_key(), rev2)

    assert {:ok, "still here"} = Wasmhost.call(host, echo_key(), "Echo.Echo", "still here")
    # Same revision again is refused.
    assert {:error, {:invalid_input, msg}} =
             Wasmhost.update_actor(host, echo_key(), {:file, rev2})

    assert msg =~ "revision"
    File.rm_rf!(tmp)
  end

  test "claims, runtime and input errors come back as {kind, message}", %{host: host} do
    assert {:error, {:claims, _}} = Wasmhost.start_actor(host, fixture_path("trap"))
    assert {:error, {:claims, _}} = Wasmhost.start_actor(host, {:bytes, "not wasm"})
    assert {:error, {:not_found, _}} = Wasmhost.start_actor(host, "/nonexistent/actor.wasm")
    assert {:error, {_kind, msg}} = Wasmhost.start_actor(host, {:oci, "localhost:1/echo:0.1.0"})
    assert is_binary(msg)

    Wasmhost.start_actor!(host, actor_path("echo"))
    assert {:error, {:runtime, msg}} = Wasmhost.call(host, echo_key(), "No.Such", "")
    assert msg =~ "No handler"
    assert {:error, {:invalid_input, _}} = Wasmhost.call(host, echo_key(), "", "")
  end

  test "bad arguments raise ArgumentError", %{host: host} do
    assert_raise ArgumentError, fn -> Wasmhost.start_actor(host, 42) end
    assert_raise ArgumentError, fn -> Wasmhost.start_actor(host, actor_path("echo"), count: 0) end

    assert_raise ArgumentError, fn ->
      Wasmhost.start_actor(host, actor_path("echo"), count: 70_000)
    end

    assert_raise ArgumentError, fn ->
      Wasmhost.start_actor(host, actor_path("echo"), annotations: 5)
    end

    assert_raise ArgumentError, fn -> Wasmhost.scale_actor(host, echo_key(), -1) end
    assert_raise ArgumentError, fn -> Wasmhost.call(host, :echo, "Echo.Echo", "") end
    assert_raise ArgumentError, fn -> Wasmhost.call(host, echo_key(), "Echo.Echo", [:bad]) end
    assert_raise ArgumentError, fn -> Wasmhost.call(host, echo_key(), "Echo.Echo", 1) end
  end
end
