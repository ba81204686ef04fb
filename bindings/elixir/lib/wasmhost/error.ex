defmodule Wasmhost.Error do
  @moduledoc """
  Raised by the bang functions (`Wasmhost.call!/4`, ...): the core's error kind and message.

  Kinds: `:not_found`, `:invalid_input`, `:claims`, `:denied`, `:timeout`, `:transport`,
  `:runtime`, `:stopped`, `:internal`.
  """

  defexception [:kind, :message]

  @type kind ::
          :not_found
          | :invalid_input
          | :claims
          | :denied
          | :timeout
          | :transport
          | :runtime
          | :stopped
          | :internal

  @type t :: %__MODULE__{kind: kind(), message: String.t()}

  @kinds [
    :not_found,
    :invalid_input,
    :claims,
    :denied,
    :timeout,
    :transport,
    :runtime,
    :stopped,
    :internal
  ]

  @doc "Every error kind, in the core's order (the NIF's list is tested against it)."
  @spec kinds() :: [kind()]
  def kinds, do: @kinds

  @impl true
  def message(%__MODULE__{kind: kind, message: message}), do: "#{kind}: #{message}"

  @doc false
  # Unwraps `{:ok, value}` or raises for `{:error, {kind, message}}`.
  def unwrap!({:ok, value}), do: value
  def unwrap!(:ok), do: :ok
  def unwrap!({:error, {kind, message}}), do: raise(%__MODULE__{kind: kind, message: message})
end
