defmodule Mix.Tasks.Compile.WasmhostNif do
  @moduledoc """
  Builds the Rust NIF (`native/wasmhost_nif`, a member of the repository's cargo workspace) and
  copies it to `priv/libwasmhost_nif.so`. Runs `cargo build` every time (a no-op when nothing
  changed); no hex, no network beyond what cargo itself needs.

  `WASMHOST_NIF_PROFILE=release` builds the optimised library (benchmarks); the default is the
  workspace's dev profile, which shares its build with `cargo test --workspace`.
  """
  use Mix.Task.Compiler

  @project_dir __DIR__
  @workspace_dir Path.expand("../..", __DIR__)

  @impl true
  def run(_args) do
    profile = System.get_env("WASMHOST_NIF_PROFILE", "debug")

    cargo_args =
      ["build", "-p", "wasmhost_nif"] ++ if(profile == "release", do: ["--release"], else: [])

    Mix.shell().info("Compiling NIF wasmhost_nif (cargo #{Enum.join(cargo_args, " ")})")

    case System.cmd("cargo", cargo_args, cd: @workspace_dir, stderr_to_stdout: true) do
      {_, 0} ->
        copy_library(profile)

      {output, status} ->
        Mix.shell().error(output)
        Mix.raise("cargo build of the wasmhost NIF failed (exit status #{status})")
    end
  end

  defp copy_library(profile) do
    target_dir = System.get_env("CARGO_TARGET_DIR", Path.join(@workspace_dir, "target"))
    built = Path.join([target_dir, profile, "libwasmhost_nif.so"])
    dest = Path.join([@project_dir, "priv", "libwasmhost_nif.so"])
    File.mkdir_p!(Path.dirname(dest))

    if File.exists?(dest) and File.read!(dest) == File.read!(built) do
      {:noop, []}
    else
      # Copy to a temp name and rename: a running VM may have the old file mapped.
      File.cp!(built, dest <> ".tmp")
      File.rename!(dest <> ".tmp", dest)
      {:ok, []}
    end
  end
end

defmodule Wasmhost.MixProject do
  use Mix.Project

  def project do
    [
      app: :wasmhost,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      compilers: [:wasmhost_nif] ++ Mix.compilers(),
      deps: [],
      docs: [main: "Wasmhost"]
    ]
  end

  def application do
    [extra_applications: [:logger]]
  end
end
