defmodule Wasmhost.Options do
  @moduledoc false
  # Checks `Wasmhost.start_host/1` options and builds the map the NIF decodes (every key present).

  @defaults %{
    lattice: nil,
    host_seed: nil,
    cluster_seed: nil,
    cluster_issuers: [],
    labels: %{},
    friendly_name: nil,
    nats_url: nil,
    rpc_timeout_ms: nil,
    invocation_timeout_ms: nil,
    heartbeat_interval_ms: nil,
    max_instance_memory: nil,
    max_instances: nil,
    max_payload: nil,
    enable_invocation_events: false
  }

  @doc false
  def host_opts(opts) when is_list(opts) do
    unless Keyword.keyword?(opts), do: raise(ArgumentError, "host options must be a keyword list")
    Enum.reduce(opts, @defaults, &put/2)
  end

  def host_opts(other),
    do: raise(ArgumentError, "host options must be a keyword list, got: #{inspect(other)}")

  defp put({:nats, url}, acc) when is_binary(url), do: %{acc | nats_url: url}

  # Several servers, tried in order: the core takes them as a comma list.
  defp put({:nats, [url | _] = urls}, acc) when is_binary(url),
    do: %{acc | nats_url: Enum.map_join(urls, ",", &string!(:nats, &1))}

  defp put({:nats, opts}, acc) when is_list(opts) do
    case Keyword.fetch(opts, :url) do
      {:ok, url} when is_binary(url) -> %{acc | nats_url: url}
      _ -> raise ArgumentError, "nats: expects a URL string or [url: \"nats://host:port\"]"
    end
  end

  defp put({key, value}, acc) when key in [:lattice, :host_seed, :cluster_seed, :friendly_name],
    do: Map.put(acc, key, string!(key, value))

  defp put({:cluster_issuers, keys}, acc) when is_list(keys),
    do: %{acc | cluster_issuers: Enum.map(keys, &string!(:cluster_issuers, &1))}

  defp put({:labels, labels}, acc) when is_map(labels) or is_list(labels),
    do: %{acc | labels: string_map!(:labels, labels)}

  defp put({key, ms}, acc)
       when key in [:rpc_timeout, :invocation_timeout, :heartbeat_interval] and is_integer(ms) and
              ms > 0,
       do: Map.put(acc, :"#{key}_ms", ms)

  defp put({key, n}, acc)
       when key in [:max_instance_memory, :max_instances, :max_payload] and is_integer(n) and
              n > 0,
       do: Map.put(acc, key, n)

  defp put({:enable_invocation_events, flag}, acc) when is_boolean(flag),
    do: %{acc | enable_invocation_events: flag}

  defp put({key, value}, _acc),
    do: raise(ArgumentError, "invalid host option #{inspect(key)}: #{inspect(value)}")

  @doc false
  # A map (or keyword list) of string-able keys and values as a map of strings.
  def string_map!(what, pairs) when is_map(pairs) or is_list(pairs) do
    Map.new(pairs, fn
      {k, v} -> {string!(what, k), string!(what, v)}
      other -> raise ArgumentError, "#{what}: expected key-value pairs, got: #{inspect(other)}"
    end)
  end

  def string_map!(what, other),
    do: raise(ArgumentError, "#{what}: expected a map, got: #{inspect(other)}")

  defp string!(_what, value) when is_binary(value), do: value
  defp string!(_what, value) when is_atom(value) and not is_nil(value), do: Atom.to_string(value)

  defp string!(what, value),
    do: raise(ArgumentError, "#{what}: expected a string, got: #{inspect(value)}")
end
