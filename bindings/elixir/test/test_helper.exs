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
end

ExUnit.start()
