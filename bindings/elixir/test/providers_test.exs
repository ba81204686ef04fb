defmodule Wasmhost.ProvidersTest do
  # Capability providers: an embedded host refuses them; over a real nats-server (tagged :nats,
  # excluded with `mix test --exclude nats`) a script provider (a shell script packed as the
  # provider binary by `wasmhost par create`) starts, is listed and stops.
  use ExUnit.Case, async: true
  import Wasmhost.TestHelpers

  @moduletag timeout: 120_000
  @cluster_seed "SCAKUNN72IFVVHIEKSS76LBAJOWFE4FRIDNSCVHFUASRG3FZSGWE6WVUJU"

  # A signed archive whose binary reads its HostData line and sleeps; returns its path.
  defp script_provider do
    dir =
      Path.join(System.tmp_dir!(), "wasmhost-elixir-prov-#{System.unique_integer([:positive])}")

    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf(dir) end)
    script = Path.join(dir, "provider.sh")
    File.write!(script, "#!/bin/sh\nread line\nexec sleep 600\n")
    archive = Path.join(dir, "script.par.gz")
    arch = :erlang.system_info(:system_architecture) |> to_string() |> String.split("-") |> hd()

    {output, status} =
      System.cmd(
        repo_path("target/debug/wasmhost"),
        ["par", "create", "--capid", "wasmcloud:keyvalue", "--name", "elixir script"] ++
          ["--vendor", "wasmhost-tests", "--rev", "4", "--ver", "0.4.0"] ++
          ["--binary", "#{arch}-linux=#{script}", "-o", archive],
        stderr_to_stdout: true
      )

    if status != 0, do: raise("wasmhost par create failed: #{output}")
    archive
  end

  defp alive?(pid) do
    case File.read("/proc/#{pid}/stat") do
      {:ok, stat} ->
        not (stat
             |> String.split(")")
             |> List.last()
             |> String.trim_leading()
             |> String.starts_with?("Z"))

      {:error, _} ->
        false
    end
  end

  test "an embedded host refuses providers with a message about NATS" do
    host = test_host()
    on_exit(fn -> Wasmhost.stop_host(host) end)
    archive = script_provider()
    # The lattice picture follows the providers through the lattice's events.
    {:ok, lattice} = Wasmhost.Lattice.start_link(host: host, observer: [ping_timeout_ms: 300])
    assert {:error, {:invalid_input, message}} = Wasmhost.start_provider(host, archive)
    assert message =~ "NATS"

    assert {:error, {:invalid_input, _}} =
             Wasmhost.start_provider(host, {:bytes, File.read!(archive)}, link_name: "x")

    assert_raise Wasmhost.Error, fn -> Wasmhost.start_provider!(host, archive) end
    assert_raise ArgumentError, fn -> Wasmhost.start_provider(host, archive, config: 42) end
    assert_raise ArgumentError, fn -> Wasmhost.start_provider(host, :nope) end
    assert Wasmhost.providers(host) == []
    eventually(fn -> Wasmhost.Lattice.providers(lattice) == %{} end)
    assert {:error, {:not_found, _}} = Wasmhost.stop_provider(host, "VAAAA")
  end

  @tag :nats
  test "a script provider starts over NATS, is listed and stops" do
    {url, stop} = start_nats_server()
    on_exit(stop)

    host =
      test_host(
        nats: url,
        lattice: "elixir-prov-#{System.unique_integer([:positive])}",
        cluster_seed: @cluster_seed
      )

    on_exit(fn -> Wasmhost.stop_host(host) end)
    {:ok, lattice} = Wasmhost.Lattice.start_link(host: host)
    archive = script_provider()

    assert {:ok, provider} =
             Wasmhost.start_provider(host, archive,
               config: ~s({"greeting":"hi"}),
               annotations: %{"who" => "elixir"}
             )

    assert %{
             link_name: "default",
             contract_id: "wasmcloud:keyvalue",
             name: "elixir script",
             vendor: "wasmhost-tests",
             revision: 4,
             version: "0.4.0",
             annotations: %{"who" => "elixir"},
             restarts: 0,
             pid: pid
           } = provider

    assert "V" <> _ = provider.public_key
    assert is_integer(pid) and alive?(pid)
    key = {provider.public_key, "default", host.id}

    eventually(fn ->
      match?(
        %{contract_id: "wasmcloud:keyvalue", name: "elixir script"},
        Wasmhost.Lattice.providers(lattice)[key]
      )
    end)

    assert {:error, {:invalid_input, "Provider with that link name is already running" <> _}} =
             Wasmhost.start_provider(host, archive)

    other = Wasmhost.start_provider!(host, {:bytes, File.read!(archive)}, link_name: "other")
    assert other.pid != pid

    assert [{provider.public_key, "default"}, {provider.public_key, "other"}] ==
             Enum.map(Wasmhost.providers(host), &{&1.public_key, &1.link_name})

    assert :ok = Wasmhost.stop_provider(host, provider.public_key)
    refute alive?(pid)
    :ok = Wasmhost.stop_provider!(host, other.public_key, "other")
    refute alive?(other.pid)
    assert Wasmhost.providers(host) == []
    assert {:error, {:not_found, _}} = Wasmhost.stop_provider(host, provider.public_key)
  end
end
