defmodule WasmhostExample.AgentKeyValue do
  @moduledoc """
  `wasmcloud:keyvalue` for actors, kept in an Elixir `Agent`: a process that answers the host
  calls `Wasmhost.register_capability/5` routes to it. Only `KeyValue.Increment` and
  `KeyValue.Get` are implemented; other operations get a host error naming them.
  """

  alias Wasmhost.Msgpack

  @doc "Starts the Agent and the handler process, and registers the handler with `host`."
  def start(host) do
    {:ok, store} = Agent.start_link(fn -> %{} end)
    handler = spawn_link(fn -> loop(store) end)
    :ok = Wasmhost.register_capability(host, "wasmcloud:keyvalue", handler)
    store
  end

  defp loop(store) do
    receive do
      {:wasmhost_host_call, ref, call} ->
        Wasmhost.reply(ref, handle(store, call.operation, call.payload))
        loop(store)
    end
  end

  # {"key": k, "value": n} -> the new value as a msgpack i32
  defp handle(store, "KeyValue.Increment", payload) do
    with {:ok, %{"key" => key, "value" => by}} when is_binary(key) and is_integer(by) <-
           Msgpack.decode(payload) do
      value =
        Agent.get_and_update(store, fn kv ->
          n = Map.get(kv, key, 0) + by
          {n, Map.put(kv, key, n)}
        end)

      {:ok, Msgpack.encode(value)}
    else
      _ -> {:error, "KeyValue.Increment: expected a msgpack map {key, value}"}
    end
  end

  # key (msgpack str) -> {"value": string, "exists": bool}
  defp handle(store, "KeyValue.Get", payload) do
    case Msgpack.decode(payload) do
      {:ok, key} when is_binary(key) ->
        case Agent.get(store, &Map.fetch(&1, key)) do
          {:ok, v} -> {:ok, Msgpack.encode(%{"value" => to_string(v), "exists" => true})}
          :error -> {:ok, Msgpack.encode(%{"value" => "", "exists" => false})}
        end

      _ ->
        {:error, "KeyValue.Get: expected a msgpack string key"}
    end
  end

  defp handle(_store, operation, _payload),
    do: {:error, "#{operation} is not supported by this example store"}
end
