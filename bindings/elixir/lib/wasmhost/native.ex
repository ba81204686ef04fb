defmodule Wasmhost.Native do
  @moduledoc false
  # The NIF entry points (native/wasmhost_nif). Call them through `Wasmhost`, which checks arguments.

  @on_load :load_nif

  @doc false
  def load_nif do
    path = Application.app_dir(:wasmhost, "priv/libwasmhost_nif")

    case :erlang.load_nif(String.to_charlist(path), 0) do
      :ok ->
        :ok

      {:error, reason} = error ->
        IO.warn("cannot load the wasmhost NIF from #{path}.so: #{inspect(reason)}")
        error
    end
  end

  defp not_loaded, do: :erlang.nif_error(:nif_not_loaded)

  def error_kinds, do: not_loaded()
  def observer_connect(_url, _options), do: not_loaded()
  def observer_for_host(_host, _options), do: not_loaded()
  def observer_snapshot(_observer), do: not_loaded()
  def observer_subscribe(_observer, _pid), do: not_loaded()
  def host_start(_opts), do: not_loaded()
  def host_stop(_host), do: not_loaded()
  def host_stopped(_host), do: not_loaded()
  def host_labels(_host), do: not_loaded()
  def host_friendly_name(_host), do: not_loaded()
  def host_inventory(_host), do: not_loaded()
  def actor_start(_host, _kind, _data, _count, _annotations), do: not_loaded()
  def actor_scale(_host, _actor_id, _count, _annotations), do: not_loaded()
  def actor_stop(_host, _actor_id, _count, _annotations), do: not_loaded()
  def actor_update(_host, _actor_id, _kind, _data), do: not_loaded()
  def actor_list(_host), do: not_loaded()
  def actor_call(_host, _actor, _operation, _payload), do: not_loaded()
  def actor_call_loop(_host, _actor, _operation, _payload, _n), do: not_loaded()
  def provider_start(_host, _kind, _data, _link_name, _config, _annotations), do: not_loaded()
  def provider_stop(_host, _public_key, _link_name), do: not_loaded()
  def provider_list(_host), do: not_loaded()
  def link_put(_host, _link), do: not_loaded()
  def link_delete(_host, _actor_id, _contract_id, _link_name), do: not_loaded()
  def link_list(_host), do: not_loaded()
  def events_subscribe(_host, _pid), do: not_loaded()
  def lattice_events_subscribe(_host, _pid), do: not_loaded()
  def capability_register(_host, _contract_id, _link_name, _pid, _timeout_ms), do: not_loaded()
  def capability_unregister(_host, _contract_id, _link_name), do: not_loaded()
  def capability_reply(_ref, _ok, _data), do: not_loaded()
  def policy_set(_host, _pid, _timeout_ms), do: not_loaded()
end
