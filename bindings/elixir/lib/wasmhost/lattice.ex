defmodule Wasmhost.Lattice do
  @moduledoc """
  A live picture of the lattice: hosts, actors with their instances, providers with their health,
  link definitions and claims. A thin wrapper over the core's lattice observer (the same one the
  C, Python and Go bindings and the web dashboard use), which builds the picture from every event
  type of `wasmbus.evt.{lattice}` and the heartbeats, seeded from `ping.hosts`, each host's
  inventory, `get.links` and `get.claims`, and drops a host that misses its heartbeats.

      {:ok, lattice} = Wasmhost.Lattice.start_link(host: host)
      Wasmhost.Lattice.actors(lattice)
      #=> %{"MB..." => %{name: "Echo", count: 2, instances: %{"uuid" => %{host_id: "N...", ...}}, ...}}

  Sources: `host:` observes the lattice that host is in (over the host's NATS settings when it
  joined one, so hosts in other OS processes and other 0.5x hosts are seen; the host alone when
  its lattice is embedded); `nats_url:` (with `lattice:`, default `"default"`) observes a NATS
  lattice without a local host. Options for the observer go in `observer:` as a keyword list
  (`missed_heartbeats:`, `ping_timeout_ms:`, `request_timeout_ms:`, ...). `name:` as for any
  GenServer.

  `subscribe/2` sends the picture's changes to a process as
  `{:wasmhost_lattice_change, %{"seq" => n, "kind" => "actor_added", ...}}`.
  """

  use GenServer

  alias Wasmhost.Native

  @typedoc "A host as the lattice sees it."
  @type host_state :: %{
          friendly_name: String.t() | nil,
          labels: %{String.t() => String.t()},
          uptime_seconds: non_neg_integer() | nil,
          version: String.t() | nil
        }

  @typedoc "An actor with its instances across hosts."
  @type actor_state :: %{
          name: String.t() | nil,
          image_ref: String.t() | nil,
          revision: integer() | nil,
          count: non_neg_integer(),
          instances: %{String.t() => %{host_id: String.t(), annotations: map()}}
        }

  @typedoc "A provider instance on a host."
  @type provider_state :: %{
          host_id: String.t(),
          contract_id: String.t(),
          name: String.t() | nil,
          image_ref: String.t() | nil,
          revision: integer() | nil,
          health: String.t(),
          annotations: map()
        }

  @doc "Starts the monitor; see the module doc for the options."
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts) do
    {source, opts} = source!(opts)
    GenServer.start_link(__MODULE__, source, opts)
  end

  @doc "Hosts by id."
  @spec hosts(GenServer.server()) :: %{String.t() => host_state()}
  def hosts(lattice), do: lattice |> snapshot() |> hosts_of()

  @doc "Running actors by public key, their instances across every host."
  @spec actors(GenServer.server()) :: %{String.t() => actor_state()}
  def actors(lattice), do: lattice |> snapshot() |> actors_of()

  @doc "Running providers keyed by `{public_key, link_name, host_id}`."
  @spec providers(GenServer.server()) :: %{
          {String.t(), String.t(), String.t()} => provider_state()
        }
  def providers(lattice), do: lattice |> snapshot() |> providers_of()

  @doc "Link definitions keyed by `{actor_id, contract_id, link_name}`."
  @spec links(GenServer.server()) :: %{{String.t(), String.t(), String.t()} => Wasmhost.link()}
  def links(lattice), do: lattice |> snapshot() |> links_of()

  @doc "The whole picture as the core gives it: a map with string keys."
  @spec snapshot(GenServer.server()) :: map()
  def snapshot(lattice), do: GenServer.call(lattice, :snapshot)

  @doc """
  Sends every change from now on to `pid` as `{:wasmhost_lattice_change, change}`; returns the
  picture at that moment (apply the changes whose `"seq"` is greater to keep a copy).
  """
  @spec subscribe(GenServer.server(), pid()) :: {:ok, map()} | Wasmhost.error()
  def subscribe(lattice, pid \\ self()), do: GenServer.call(lattice, {:subscribe, pid})

  ## Server

  @impl true
  def init({kind, arg, options}) do
    options = Map.new(options, fn {key, value} -> {to_string(key), value} end)

    started =
      case kind do
        :host -> Native.observer_for_host(arg.resource, options)
        :nats -> Native.observer_connect(arg, options)
      end

    case started do
      {:ok, observer} -> {:ok, observer}
      {:error, reason} -> {:stop, reason}
    end
  end

  @impl true
  def handle_call(:snapshot, _from, observer),
    do: {:reply, Native.observer_snapshot(observer), observer}

  def handle_call({:subscribe, pid}, _from, observer),
    do: {:reply, Native.observer_subscribe(observer, pid), observer}

  defp source!(opts) do
    {host, opts} = Keyword.pop(opts, :host)
    {hosts, opts} = Keyword.pop(opts, :hosts, [])
    {url, opts} = Keyword.pop(opts, :nats_url)
    {lattice, opts} = Keyword.pop(opts, :lattice)
    {options, opts} = Keyword.pop(opts, :observer, [])
    options = if lattice, do: Keyword.put(options, :lattice, lattice), else: options

    source =
      case {host || List.first(hosts), url} do
        {%Wasmhost.Host{} = h, nil} ->
          {:host, h, options}

        {nil, url} when is_binary(url) ->
          {:nats, url, options}

        _ ->
          raise ArgumentError,
                "Wasmhost.Lattice needs host: %Wasmhost.Host{} or nats_url: \"nats://...\""
      end

    {source, opts}
  end

  ## The core's picture in the shapes of this module's functions

  defp hosts_of(snapshot) do
    Map.new(snapshot["hosts"], fn h ->
      {h["id"],
       %{
         friendly_name: h["friendly_name"],
         labels: h["labels"] || %{},
         uptime_seconds: h["uptime_seconds"],
         version: h["version"]
       }}
    end)
  end

  defp actors_of(snapshot) do
    for host <- snapshot["hosts"], actor <- host["actors"], reduce: %{} do
      acc ->
        instances =
          Map.new(actor["instances"], fn i ->
            {i["instance_id"], %{host_id: host["id"], annotations: i["annotations"] || %{}}}
          end)

        Map.update(
          acc,
          actor["public_key"],
          %{
            name: actor["name"],
            image_ref: actor["image_ref"],
            revision: actor["revision"],
            count: map_size(instances),
            instances: instances
          },
          fn known ->
            merged = Map.merge(known.instances, instances)
            %{known | instances: merged, count: map_size(merged)}
          end
        )
    end
  end

  defp providers_of(snapshot) do
    for host <- snapshot["hosts"], p <- host["providers"], into: %{} do
      {{p["public_key"], p["link_name"], host["id"]},
       %{
         host_id: host["id"],
         contract_id: p["contract_id"],
         name: p["name"],
         image_ref: p["image_ref"],
         revision: p["revision"],
         health: p["health"],
         annotations: p["annotations"] || %{}
       }}
    end
  end

  defp links_of(snapshot) do
    Map.new(snapshot["links"], fn l ->
      link = %{
        actor_id: l["actor_id"],
        provider_id: l["provider_id"],
        contract_id: l["contract_id"],
        link_name: l["link_name"],
        values: l["values"] || %{}
      }

      {{link.actor_id, link.contract_id, link.link_name}, link}
    end)
  end
end
