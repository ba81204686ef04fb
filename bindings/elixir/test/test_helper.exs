defmodule Wasmhost.TestHelpers do
  @moduledoc false
  # Paths to the repository's example actors and small helpers shared by the tests.

  @repo Path.expand("../../..", __DIR__)

  def repo_path(rel), do: Path.join(@repo, rel)

  @doc """
  Starts a host with a small instance pool: each host reserves address space for its whole pool
  (2048 instances by default), and the async tests run several hosts at once.
  """
  def test_host(opts \\ []), do: Wasmhost.start_host!(Keyword.merge([max_instances: 16], opts))

  @doc "A signed example actor from examples/actors."
  def actor_path(name), do: repo_path("examples/actors/#{name}.wasm")

  @doc "A .wasm fixture (unsigned) from examples/actors/fixtures."
  def fixture_path(name), do: repo_path("examples/actors/fixtures/#{name}.wasm")

  @echo_key "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75"
  @kvcounter_key "MABWSXVV2I2WPASLBEHAE74QWHZIMUKFFBAOJWJEXOYVGLAHFXLXK4M6"
  def echo_key, do: @echo_key
  def kvcounter_key, do: @kvcounter_key

  @doc "A msgpack `HttpServer.HandleRequest` payload."
  def http_request(method, path, body \\ "") do
    Wasmhost.Msgpack.encode(%{
      "method" => method,
      "path" => path,
      "queryString" => "",
      "header" => %{},
      "body" => {:bin, body}
    })
  end

  @doc "Polls `fun` until it returns a truthy value; fails after ~5 s (events are asynchronous)."
  def eventually(fun, tries \\ 100) do
    case fun.() do
      result when result not in [nil, false] ->
        result

      _ when tries > 0 ->
        Process.sleep(50)
        eventually(fun, tries - 1)

      _ ->
        ExUnit.Assertions.flunk("condition not met in time")
    end
  end

  @doc """
  Signs `examples/actors/unsigned/<name>.wasm` with the committed example keys at `rev` using the
  wasmhost CLI, into `dir`; returns the path. Used to test live updates.
  """
  def sign_example(name, rev, dir, extra_args) do
    cli = repo_path("target/debug/wasmhost")
    out = Path.join(dir, "#{name}_rev#{rev}.wasm")

    args =
      ["claims", "sign", repo_path("examples/actors/unsigned/#{name}.wasm")] ++
        extra_args ++
        [
          "--issuer",
          repo_path("examples/actors/keys/account.nk"),
          "--subject",
          repo_path("examples/actors/keys/#{name}.nk"),
          "--rev",
          Integer.to_string(rev),
          "--ver",
          "0.#{rev}.0",
          "-o",
          out
        ]

    {output, status} = System.cmd(cli, args, stderr_to_stdout: true)
    if status != 0, do: raise("wasmhost claims sign failed: #{output}")
    out
  end

  @doc "nats-server -js on a free loopback port with its store in a temp dir; returns {url, stop_fun}."
  def start_nats_server do
    bin =
      [repo_path(".venv/bin/nats-server"), System.find_executable("nats-server")]
      |> Enum.find(&(&1 && File.exists?(&1))) ||
        ExUnit.Assertions.flunk(
          "nats-server is not installed (scripts/setup.sh puts it in .venv/bin)"
        )

    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)

    store =
      Path.join(System.tmp_dir!(), "wasmhost-elixir-nats-#{System.unique_integer([:positive])}")

    File.mkdir_p!(store)

    server =
      Port.open({:spawn_executable, bin}, [
        :binary,
        :stderr_to_stdout,
        args: ["-js", "-a", "127.0.0.1", "-p", Integer.to_string(port), "-sd", store]
      ])

    {:os_pid, os_pid} = Port.info(server, :os_pid)
    eventually(fn -> match?({:ok, _}, :gen_tcp.connect({127, 0, 0, 1}, port, [])) end)

    stop = fn ->
      System.cmd("kill", [Integer.to_string(os_pid)])
      File.rm_rf(store)
    end

    {"nats://127.0.0.1:#{port}", stop}
  end
end

ExUnit.start()
