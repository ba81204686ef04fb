defmodule Wasmhost do
  @moduledoc """
  An embeddable wasmCloud 0.5x-compatible lattice host for WebAssembly actors, running inside the
  BEAM as a NIF.

      {:ok, host} = Wasmhost.start_host()
      {:ok, echo} = Wasmhost.start_actor(host, "examples/actors/echo.wasm")
      {:ok, "hello"} = Wasmhost.call(host, echo.public_key, "Echo.Echo", "hello")
      :ok = Wasmhost.stop_host(host)

  Results are `{:ok, value}` or `{:error, {kind, message}}` where `kind` is one of the core's error
  kinds (see `Wasmhost.Error`); the `!` variants raise `Wasmhost.Error` instead. Malformed
  arguments raise `ArgumentError`.

  Every call that can take time runs on a dirty I/O scheduler while the host's own threads (one
  tokio runtime shared by every host in the VM) do the work, so normal schedulers never block.
  A process that dies while it waits for a call does not disturb the host; a host that nobody
  references any more is stopped in the background when it is garbage-collected.

  Events arrive as messages (`subscribe_events/2`) and actors' host calls to a capability
  contract can be answered by an Elixir process (`register_capability/5`).
  """

  alias Wasmhost.{Error, Host, Native, Options}

  @typedoc "`{:error, {kind, message}}` with a kind from `t:Wasmhost.Error.kind/0`."
  @type error :: {:error, {Error.kind(), String.t()}}

  @typedoc """
  Where an actor comes from: the module bytes (`<<0, "asm", ...>>`), a path to a `.wasm` file,
  a `file://` URL or an OCI reference, or one of `{:bytes, binary}`, `{:file, path}`, `{:oci, ref}`.
  """
  @type actor_source ::
          binary() | {:bytes, binary()} | {:file, Path.t()} | {:oci, String.t()}

  @typedoc "A running actor: its claims and its instances."
  @type actor :: %{
          public_key: String.t(),
          image_ref: String.t(),
          name: String.t() | nil,
          issuer: String.t(),
          revision: integer(),
          call_alias: String.t() | nil,
          caps: [String.t()],
          api_version: integer(),
          instances: [%{instance_id: String.t(), annotations: %{String.t() => String.t()}}]
        }

  @typedoc """
  Where a capability provider comes from: the archive bytes (a `.par.gz`, gzip magic first), a
  path to a `.par`/`.par.gz` file, a `file://` URL or an OCI reference, or one of
  `{:bytes, binary}`, `{:file, path}`, `{:oci, ref}`.
  """
  @type provider_source ::
          binary() | {:bytes, binary()} | {:file, Path.t()} | {:oci, String.t()}

  @typedoc "A capability provider running on this host as a child process."
  @type provider :: %{
          public_key: String.t(),
          link_name: String.t(),
          contract_id: String.t(),
          image_ref: String.t(),
          annotations: %{String.t() => String.t()},
          name: String.t() | nil,
          vendor: String.t() | nil,
          revision: integer() | nil,
          version: String.t() | nil,
          issuer: String.t(),
          instance_id: String.t(),
          pid: non_neg_integer() | nil,
          healthy: boolean(),
          restarts: non_neg_integer()
        }

  @typedoc "A link definition."
  @type link :: %{
          actor_id: String.t(),
          provider_id: String.t(),
          contract_id: String.t(),
          link_name: String.t(),
          values: %{String.t() => String.t()}
        }

  @default_capability_timeout 5_000
  @max_count 65_535

  ## Host

  @doc """
  Starts a host. Without options it runs the embedded lattice of one host: no server needed.

  Options: `lattice:`, `host_seed:` (`SN...`), `cluster_seed:` (`SC...`), `cluster_issuers:`,
  `labels:` (map), `friendly_name:`, `rpc_timeout:`, `invocation_timeout:`,
  `heartbeat_interval:` (milliseconds), `max_instance_memory:`, `max_instances:`,
  `max_payload:`, `enable_invocation_events:`, and `nats:` (a URL, a comma list or a list of
  URLs tried in order, or `[url: url]`) to join a NATS
  lattice: hosts with the same `lattice:` and a shared `cluster_seed:` (or each other's keys in
  `cluster_issuers:`) call each other's actors and share links. The connection is made in the
  background, so a host starts even before the server is reachable.
  """
  @spec start_host(keyword()) :: {:ok, Host.t()} | error()
  def start_host(opts \\ []) do
    case Native.host_start(Options.host_opts(opts)) do
      {:ok, {resource, id}} -> {:ok, %Host{resource: resource, id: id}}
      {:error, _} = error -> error
    end
  end

  @doc "Like `start_host/1`, raising `Wasmhost.Error` on failure."
  @spec start_host!(keyword()) :: Host.t()
  def start_host!(opts \\ []), do: opts |> start_host() |> Error.unwrap!()

  @doc """
  Stops the host gracefully: running calls finish, actors stop, `host_stopped` is published and
  event subscriptions end. A second stop answers `{:error, {:stopped, _}}`.
  """
  @spec stop_host(Host.t()) :: :ok | error()
  def stop_host(host), do: Native.host_stop(resource!(host))

  @doc "Whether `stop_host/1` was called (or the host was stopped by other means)."
  @spec stopped?(Host.t()) :: boolean()
  def stopped?(host), do: Native.host_stopped(resource!(host))

  @doc "The host's id: its public key (`N...`)."
  @spec host_id(Host.t()) :: String.t()
  def host_id(%Host{id: id}), do: id
  def host_id(other), do: resource!(other)

  @doc "The host's labels, `hostcore.*` included."
  @spec labels(Host.t()) :: %{String.t() => String.t()}
  def labels(host), do: Native.host_labels(resource!(host))

  @doc "The host's name for humans."
  @spec friendly_name(Host.t()) :: String.t()
  def friendly_name(host), do: Native.host_friendly_name(resource!(host))

  @doc """
  The inventory as the control interface reports it (`get.{host}.inv`): a map with string keys
  (`"host_id"`, `"labels"`, `"actors"` with their `"instances"`, ...).
  """
  @spec inventory(Host.t()) :: {:ok, map()} | error()
  def inventory(host), do: Native.host_inventory(resource!(host))

  ## Actors

  @doc """
  Starts instances of an actor after verifying its claims. Options: `count:` (default 1),
  `annotations:` (map of strings). Starting an actor that already runs adds instances.
  """
  @spec start_actor(Host.t(), actor_source(), keyword()) :: {:ok, actor()} | error()
  def start_actor(host, source, opts \\ []) do
    resource = resource!(host)
    {kind, data} = source!(source)
    count = count!(Keyword.get(opts, :count, 1), 1)
    annotations = Options.string_map!(:annotations, Keyword.get(opts, :annotations, %{}))
    Native.actor_start(resource, kind, data, count, annotations)
  end

  @doc "Like `start_actor/3`, raising `Wasmhost.Error` on failure."
  @spec start_actor!(Host.t(), actor_source(), keyword()) :: actor()
  def start_actor!(host, source, opts \\ []),
    do: host |> start_actor(source, opts) |> Error.unwrap!()

  @doc """
  Sets the number of instances of a running actor (0 stops it). New instances get
  `annotations:` from `opts`.
  """
  @spec scale_actor(Host.t(), String.t(), non_neg_integer(), keyword()) ::
          {:ok, actor()} | error()
  def scale_actor(host, actor_id, count, opts \\ []) do
    annotations = Options.string_map!(:annotations, Keyword.get(opts, :annotations, %{}))
    Native.actor_scale(resource!(host), string!(actor_id), count!(count, 0), annotations)
  end

  @doc "Like `scale_actor/4`, raising `Wasmhost.Error` on failure."
  @spec scale_actor!(Host.t(), String.t(), non_neg_integer(), keyword()) :: actor()
  def scale_actor!(host, actor_id, count, opts \\ []),
    do: host |> scale_actor(actor_id, count, opts) |> Error.unwrap!()

  @doc """
  Stops instances of an actor: `count:` of them (default 0 = all) whose annotations contain every
  pair in `annotations:`. Running calls finish first.
  """
  @spec stop_actor(Host.t(), String.t(), keyword()) :: :ok | error()
  def stop_actor(host, actor_id, opts \\ []) do
    count = count!(Keyword.get(opts, :count, 0), 0)
    annotations = Options.string_map!(:annotations, Keyword.get(opts, :annotations, %{}))
    Native.actor_stop(resource!(host), string!(actor_id), count, annotations)
  end

  @doc "Like `stop_actor/3`, raising `Wasmhost.Error` on failure."
  @spec stop_actor!(Host.t(), String.t(), keyword()) :: :ok
  def stop_actor!(host, actor_id, opts \\ []),
    do: host |> stop_actor(actor_id, opts) |> Error.unwrap!()

  @doc """
  Replaces a running actor's module with a new revision (same public key, higher revision),
  instance by instance.
  """
  @spec update_actor(Host.t(), String.t(), actor_source()) :: {:ok, actor()} | error()
  def update_actor(host, actor_id, source) do
    resource = resource!(host)
    {kind, data} = source!(source)
    Native.actor_update(resource, string!(actor_id), kind, data)
  end

  @doc "Like `update_actor/3`, raising `Wasmhost.Error` on failure."
  @spec update_actor!(Host.t(), String.t(), actor_source()) :: actor()
  def update_actor!(host, actor_id, source),
    do: host |> update_actor(actor_id, source) |> Error.unwrap!()

  @doc "The running actors, sorted by public key."
  @spec actors(Host.t()) :: [actor()]
  def actors(host), do: Native.actor_list(resource!(host))

  ## Providers

  @doc """
  Starts a capability provider from a provider archive after verifying its claims and binary
  hashes; its binary for this machine runs as a child process. Options: `link_name:` (default
  `"default"`), `config:` (a string, usually JSON, given to the provider unchanged),
  `annotations:` (map of strings). Returns once the process runs (`healthy` turns true after its
  first health check). Providers join the lattice over NATS: a host started without `nats_url:`
  returns `{:error, {:invalid_input, message}}`.
  """
  @spec start_provider(Host.t(), provider_source(), keyword()) :: {:ok, provider()} | error()
  def start_provider(host, source, opts \\ []) do
    resource = resource!(host)
    {kind, data} = provider_source!(source)
    link_name = string!(Keyword.get(opts, :link_name, "default"))

    config =
      case Keyword.get(opts, :config) do
        nil -> nil
        config when is_binary(config) -> config
        other -> raise ArgumentError, "config must be a string or nil, got: #{inspect(other)}"
      end

    annotations = Options.string_map!(:annotations, Keyword.get(opts, :annotations, %{}))
    Native.provider_start(resource, kind, data, link_name, config, annotations)
  end

  @doc "Like `start_provider/3`, raising `Wasmhost.Error` on failure."
  @spec start_provider!(Host.t(), provider_source(), keyword()) :: provider()
  def start_provider!(host, source, opts \\ []),
    do: host |> start_provider(source, opts) |> Error.unwrap!()

  @doc """
  Stops the provider `public_key` serving `link_name`: a shutdown request, a grace period, then
  its process group is killed. `{:error, {:not_found, _}}` when it does not run here.
  """
  @spec stop_provider(Host.t(), String.t(), String.t()) :: :ok | error()
  def stop_provider(host, public_key, link_name \\ "default"),
    do: Native.provider_stop(resource!(host), string!(public_key), string!(link_name))

  @doc "Like `stop_provider/3`, raising `Wasmhost.Error` on failure."
  @spec stop_provider!(Host.t(), String.t(), String.t()) :: :ok
  def stop_provider!(host, public_key, link_name \\ "default"),
    do: host |> stop_provider(public_key, link_name) |> Error.unwrap!()

  @doc "The running providers, sorted by public key and link name."
  @spec providers(Host.t()) :: [provider()]
  def providers(host), do: Native.provider_list(resource!(host))

  ## Calls

  @doc """
  Invokes `operation` on an actor (public key or call alias) with `payload` (iodata) and returns
  its reply. Runs on a dirty scheduler; the calling process may die meanwhile without harm.
  """
  @spec call(Host.t(), String.t(), String.t(), iodata()) :: {:ok, binary()} | error()
  def call(host, actor, operation, payload) do
    Native.actor_call(resource!(host), string!(actor), string!(operation), iodata!(payload))
  end

  @doc "Like `call/4`, returning the reply or raising `Wasmhost.Error`."
  @spec call!(Host.t(), String.t(), String.t(), iodata()) :: binary()
  def call!(host, actor, operation, payload),
    do: host |> call(actor, operation, payload) |> Error.unwrap!()

  ## Links

  @doc """
  Puts a link definition (a map or keyword list with `actor_id`, `provider_id`, `contract_id`,
  and optional `link_name` (default `"default"`) and `values`). Replaces the link for the same
  actor, contract and link name.
  """
  @spec put_link(Host.t(), map() | keyword()) :: :ok | error()
  def put_link(host, link) when is_map(link) or is_list(link) do
    link = Map.new(link)

    fetch = fn key ->
      case Map.fetch(link, key) do
        {:ok, value} when is_binary(value) -> value
        _ -> raise ArgumentError, "link: #{key} must be a string"
      end
    end

    Native.link_put(resource!(host), %{
      actor_id: fetch.(:actor_id),
      provider_id: fetch.(:provider_id),
      contract_id: fetch.(:contract_id),
      link_name: string!(Map.get(link, :link_name, "default")),
      values: Options.string_map!(:values, Map.get(link, :values, %{}))
    })
  end

  def put_link(_host, other),
    do: raise(ArgumentError, "link must be a map or keyword list, got: #{inspect(other)}")

  @doc "Like `put_link/2`, raising `Wasmhost.Error` on failure."
  @spec put_link!(Host.t(), map() | keyword()) :: :ok
  def put_link!(host, link), do: host |> put_link(link) |> Error.unwrap!()

  @doc "Deletes a link definition; `{:ok, false}` if there was none."
  @spec delete_link(Host.t(), String.t(), String.t(), String.t()) :: {:ok, boolean()} | error()
  def delete_link(host, actor_id, contract_id, link_name \\ "default") do
    Native.link_delete(
      resource!(host),
      string!(actor_id),
      string!(contract_id),
      string!(link_name)
    )
  end

  @doc "Every link definition known to the host."
  @spec links(Host.t()) :: [link()]
  def links(host), do: Native.link_list(resource!(host))

  ## Events

  @doc """
  Sends every lattice event from now on to `pid` as
  `{:wasmhost_event, host_id, %{"type" => type, "data" => data, ...}}`: the CloudEvent JSON of
  `wasmbus.evt.{lattice}` as a map with string keys (`"type"` is the full type, e.g.
  `"com.wasmcloud.lattice.actor_started"`). Forwarding ends when the host stops or `pid` is found
  dead.
  """
  @spec subscribe_events(Host.t(), pid()) :: :ok | error()
  def subscribe_events(host, pid \\ self())

  def subscribe_events(host, pid) when is_pid(pid) and node(pid) == node(),
    do: Native.events_subscribe(resource!(host), pid)

  def subscribe_events(_host, pid),
    do: raise(ArgumentError, "events go to a local pid, got: #{inspect(pid)}")

  @doc """
  Like `subscribe_events/2`, for the events of every host in the host's lattice
  (`wasmbus.evt.{lattice}` over NATS), this host's included, so hosts in other OS processes are
  seen too; with the embedded lattice these are the host's own events. Messages have the same
  shape: `host_id` is the subscribing host's id, `event["source"]` the id of the host that
  published it. Forwarding ends when the host stops or `pid` is found dead.
  """
  @spec subscribe_lattice_events(Host.t(), pid()) :: :ok | error()
  def subscribe_lattice_events(host, pid \\ self())

  def subscribe_lattice_events(host, pid) when is_pid(pid) and node(pid) == node(),
    do: Native.lattice_events_subscribe(resource!(host), pid)

  def subscribe_lattice_events(_host, pid),
    do: raise(ArgumentError, "events go to a local pid, got: #{inspect(pid)}")

  @doc "The short name of an event's type: `\"actor_started\"` for `com.wasmcloud.lattice.actor_started`."
  @spec event_name(map()) :: String.t()
  def event_name(%{"type" => "com.wasmcloud.lattice." <> name}), do: name
  def event_name(%{"type" => type}) when is_binary(type), do: type

  ## Capabilities

  @doc """
  Lets process `pid` answer actors' host calls to `contract_id` on `link_name`.

  Each call arrives as
  `{:wasmhost_host_call, ref, %{contract_id: _, link_name: _, operation: _, payload: _, actor_id: _}}`
  and is answered with `reply/2`. The actor gets a host error when `pid` is dead, exits or drops
  the message without replying, or does not reply within `timeout:` milliseconds (default
  #{@default_capability_timeout}). The process must not be the one waiting in `call/4` for the
  same actor (it could not answer). Replaces an earlier handler for the same contract and link.
  """
  @spec register_capability(Host.t(), String.t(), pid(), String.t(), keyword()) :: :ok | error()
  def register_capability(host, contract_id, pid, link_name \\ "default", opts \\ [])

  def register_capability(host, contract_id, pid, link_name, opts)
      when is_pid(pid) and node(pid) == node() do
    timeout = Keyword.get(opts, :timeout, @default_capability_timeout)

    unless is_integer(timeout) and timeout > 0,
      do: raise(ArgumentError, "timeout must be a positive integer (milliseconds)")

    Native.capability_register(
      resource!(host),
      string!(contract_id),
      string!(link_name),
      pid,
      timeout
    )
  end

  def register_capability(_host, _contract_id, pid, _link_name, _opts),
    do: raise(ArgumentError, "a capability handler must be a local pid, got: #{inspect(pid)}")

  @doc "Removes the handler for `contract_id` and `link_name`; returns whether there was one."
  @spec unregister_capability(Host.t(), String.t(), String.t()) :: boolean()
  def unregister_capability(host, contract_id, link_name \\ "default"),
    do: Native.capability_unregister(resource!(host), string!(contract_id), string!(link_name))

  @doc """
  Answers a host call received as `{:wasmhost_host_call, ref, call}` (or a policy request,
  `{:wasmhost_policy, ref, request}`): `{:ok, reply}` gives the
  actor `reply` (iodata), `{:error, message}` gives it a host error with `message`. Returns
  `{:error, :not_waiting}` when the call was already answered or has timed out.
  """
  @spec reply(reference(), {:ok, iodata()} | {:error, String.t()}) ::
          :ok | {:error, :not_waiting}
  def reply(ref, {:ok, data}), do: Native.capability_reply(ref, true, iodata!(data))

  def reply(ref, {:error, message}) when is_binary(message),
    do: Native.capability_reply(ref, false, message)

  def reply(_ref, other),
    do:
      raise(
        ArgumentError,
        "reply expects {:ok, iodata} or {:error, string}, got: #{inspect(other)}"
      )

  ## Policy

  @doc """
  Makes process `pid` approve or deny what the host is about to do (`nil` removes the policy).

  Each decision arrives as `{:wasmhost_policy, ref, request}` where `request` is
  `%{kind: "start_actor", public_key: _, issuer: _, image_ref: _, capabilities: [_]}` or
  `%{kind: "invoke", source: _, source_contract_id: _, target: _, operation: _}`, and is answered
  with `reply(ref, {:ok, ""})` to permit or `reply(ref, {:error, reason})` to deny (the caller gets
  `{:error, {:denied, message}}` with the reason). The policy fails closed: a dead or exiting
  process, or no answer within `timeout:` ms (default #{@default_capability_timeout}), denies.
  It is asked on every call, so it should answer quickly.
  """
  @spec set_policy(Host.t(), pid() | nil, keyword()) :: :ok
  def set_policy(host, pid, opts \\ [])

  def set_policy(host, pid, opts) when is_nil(pid) or (is_pid(pid) and node(pid) == node()) do
    timeout = Keyword.get(opts, :timeout, @default_capability_timeout)

    unless is_integer(timeout) and timeout > 0,
      do: raise(ArgumentError, "timeout must be a positive integer (milliseconds)")

    Native.policy_set(resource!(host), pid, timeout)
  end

  def set_policy(_host, pid, _opts),
    do: raise(ArgumentError, "a policy must be a local pid or nil, got: #{inspect(pid)}")

  ## Argument checks

  defp resource!(%Host{resource: resource}), do: resource

  defp resource!(other),
    do: raise(ArgumentError, "expected a Wasmhost.Host, got: #{inspect(other)}")

  defp source!(<<0, "asm", _::binary>> = bytes), do: {:bytes, bytes}
  defp source!({:bytes, bytes}) when is_binary(bytes), do: {:bytes, bytes}
  defp source!({:file, path}) when is_binary(path), do: {:file, path}
  defp source!({:oci, reference}) when is_binary(reference), do: {:reference, reference}

  defp source!(text) when is_binary(text) do
    if String.valid?(text) and File.regular?(text), do: {:file, text}, else: {:reference, text}
  end

  defp source!(other),
    do:
      raise(
        ArgumentError,
        "expected wasm bytes, a path or an OCI reference, got: #{inspect(other)}"
      )

  defp provider_source!(<<0x1F, 0x8B, _::binary>> = bytes), do: {:bytes, bytes}
  defp provider_source!({:bytes, bytes}) when is_binary(bytes), do: {:bytes, bytes}
  defp provider_source!({:file, path}) when is_binary(path), do: {:file, path}
  defp provider_source!({:oci, reference}) when is_binary(reference), do: {:reference, reference}

  defp provider_source!(text) when is_binary(text) do
    if String.valid?(text) and File.regular?(text), do: {:file, text}, else: {:reference, text}
  end

  defp provider_source!(other),
    do:
      raise(
        ArgumentError,
        "expected provider archive bytes, a path or an OCI reference, got: #{inspect(other)}"
      )

  defp count!(count, min) when is_integer(count) and count >= min and count <= @max_count,
    do: count

  defp count!(count, min),
    do:
      raise(
        ArgumentError,
        "count must be an integer in #{min}..#{@max_count}, got: #{inspect(count)}"
      )

  defp string!(value) when is_binary(value), do: value
  defp string!(value), do: raise(ArgumentError, "expected a string, got: #{inspect(value)}")

  defp iodata!(data) when is_binary(data), do: data

  defp iodata!(data) do
    IO.iodata_to_binary(data)
  rescue
    ArgumentError ->
      reraise ArgumentError, "expected iodata, got: #{inspect(data)}", __STACKTRACE__
  end
end
