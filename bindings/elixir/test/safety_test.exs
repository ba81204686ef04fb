defmodule Wasmhost.SafetyTest do
  # Crashes and garbage collection around the NIF must never take the VM down.
  use ExUnit.Case, async: true
  import Wasmhost.TestHelpers
  alias Wasmhost.Msgpack

  test "devices, pipes and directories are refused before reading; the host keeps serving" do
    host = test_host()
    dir = Path.join(System.tmp_dir!(), "wasmhost-ex-fifo-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf(dir) end)
    fifo = Path.join(dir, "pipe.wasm")
    {_, 0} = System.cmd("mkfifo", [fifo])

    for {path, why} <- [
          {"/dev/zero", "character device"},
          {fifo, "named pipe"},
          {dir, "directory"}
        ] do
      assert {:error, {:invalid_input, message}} = Wasmhost.start_actor(host, {:file, path})
      assert message =~ why
    end

    Wasmhost.start_actor!(host, actor_path("echo"))
    assert {:ok, "still serving"} = Wasmhost.call(host, echo_key(), "Echo.Echo", "still serving")
  end

  test "a garbage-collected host is stopped in the background" do
    test = self()

    owner =
      spawn(fn ->
        host = test_host()
        :ok = Wasmhost.subscribe_events(host, test)
        Wasmhost.start_actor!(host, actor_path("echo"))
        send(test, {:host_id, host.id})
        # Exit without stop_host: the resource dies with this process's heap.
      end)

    assert_receive {:host_id, id}, 10_000
    ref = Process.monitor(owner)
    assert_receive {:DOWN, ^ref, _, _, _}, 5_000

    assert_receive {:wasmhost_event, ^id, %{"type" => "com.wasmcloud.lattice.actor_stopped"}},
                   10_000

    assert_receive {:wasmhost_event, ^id, %{"type" => "com.wasmcloud.lattice.host_stopped"}},
                   10_000
  end

  test "a caller that dies during a call leaves the host working" do
    host = test_host()
    Wasmhost.start_actor!(host, actor_path("kvcounter"))
    Wasmhost.start_actor!(host, actor_path("echo"))
    test = self()

    # The handler holds the call until told to answer, so the caller is surely inside the NIF.
    handler =
      spawn_link(fn ->
        receive do
          {:wasmhost_host_call, ref, _} ->
            send(test, :call_arrived)

            receive do:
                      (:answer ->
                         send(test, {:late_reply, Wasmhost.reply(ref, {:ok, Msgpack.encode(1)})}))
        end
      end)

    :ok =
      Wasmhost.register_capability(host, "wasmcloud:keyvalue", handler, "default", timeout: 30_000)

    caller =
      spawn(fn ->
        Wasmhost.call(host, kvcounter_key(), "HttpServer.HandleRequest", http_request("GET", "/"))
      end)

    assert_receive :call_arrived, 10_000
    Process.exit(caller, :kill)
    refute Process.alive?(caller)

    # The actor's call is still waiting in Rust; answering it is fine, and so is everything after.
    send(handler, :answer)
    assert_receive {:late_reply, :ok}, 10_000
    assert {:ok, "alive"} = Wasmhost.call(host, echo_key(), "Echo.Echo", "alive")
    :ok = Wasmhost.stop_host(host)
  end

  test "a subscriber that crashes does not stop the events of others" do
    host = test_host()
    id = host.id
    crasher = spawn(fn -> receive do: (_ -> exit(:subscriber_crashed)) end)
    ref = Process.monitor(crasher)
    :ok = Wasmhost.subscribe_events(host, crasher)
    :ok = Wasmhost.subscribe_events(host, self())
    Wasmhost.start_actor!(host, actor_path("echo"))
    assert_receive {:DOWN, ^ref, _, _, _}, 5_000
    Wasmhost.scale_actor!(host, echo_key(), 2)

    assert_receive {:wasmhost_event, ^id, %{"type" => "com.wasmcloud.lattice.actor_started"}},
                   5_000

    assert_receive {:wasmhost_event, ^id, %{"type" => "com.wasmcloud.lattice.actor_started"}},
                   5_000

    :ok = Wasmhost.stop_host(host)
  end

  test "many concurrent callers from many processes" do
    host = test_host()
    Wasmhost.start_actor!(host, actor_path("echo"), count: 4)

    results =
      1..200
      |> Task.async_stream(fn i -> Wasmhost.call(host, echo_key(), "Echo.Echo", "n#{i}") end,
        max_concurrency: 16
      )
      |> Enum.map(fn {:ok, r} -> r end)

    assert results == Enum.map(1..200, &{:ok, "n#{&1}"})
    :ok = Wasmhost.stop_host(host)
  end

  test "normal schedulers keep running while calls wait on dirty schedulers" do
    host = test_host()
    Wasmhost.start_actor!(host, actor_path("kvcounter"), count: 8)
    test = self()
    blocked = System.schedulers_online() + 2

    # Collects every call, tells the test, and answers them all only when the test says so.
    handler =
      spawn_link(fn ->
        refs =
          for _ <- 1..blocked do
            receive do
              {:wasmhost_host_call, ref, _} -> ref
            end
          end

        send(test, {:all_waiting, length(refs)})
        receive do: (:go -> Enum.each(refs, &Wasmhost.reply(&1, {:ok, Msgpack.encode(5)})))
      end)

    :ok =
      Wasmhost.register_capability(host, "wasmcloud:keyvalue", handler, "default", timeout: 30_000)

    # More blocked callers than normal schedulers: if a call held a normal scheduler, the handler
    # and this process could not both run and nothing below would happen.
    callers =
      for _ <- 1..blocked do
        Task.async(fn ->
          Wasmhost.call(
            host,
            kvcounter_key(),
            "HttpServer.HandleRequest",
            http_request("GET", "/")
          )
        end)
      end

    assert_receive {:all_waiting, ^blocked}, 10_000
    send(handler, :go)

    for task <- callers do
      {:ok, reply} = Task.await(task, 10_000)
      assert %{"statusCode" => 200, "body" => ~s({"counter":5})} = Msgpack.decode!(reply)
    end

    :ok = Wasmhost.stop_host(host)
  end
end
