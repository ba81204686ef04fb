defmodule Wasmhost.Host do
  @moduledoc """
  A running host: the NIF resource and the host's id (its public key, `N...`).

  Safe to keep in GenServer state and to pass between processes. When no process references the
  host any more it is garbage-collected and stopped in the background.
  """

  @enforce_keys [:resource, :id]
  defstruct [:resource, :id]

  @type t :: %__MODULE__{resource: reference(), id: String.t()}

  defimpl Inspect do
    def inspect(host, _opts), do: "#Wasmhost.Host<#{host.id}>"
  end
end
