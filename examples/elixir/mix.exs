defmodule WasmhostExample.MixProject do
  use Mix.Project

  def project do
    [
      app: :wasmhost_example,
      version: "0.1.0",
      elixir: "~> 1.14",
      # A path dependency: nothing to fetch; compiling it builds the NIF.
      deps: [{:wasmhost, path: "../../bindings/elixir"}]
    ]
  end

  def application, do: [extra_applications: [:logger]]
end
