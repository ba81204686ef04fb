defmodule Wasmhost.Lattice do
  @moduledoc """
  A live picture of the lattice built from events (what the wasmCloud OTP host's `StateMonitor`
  kept): the hosts, the actors with their instances, and the link definitions.

      {:ok, lattice} = Wasmhost.Lattice.start_link(host: host)
      Wasmhost.Lattice.actors(lattice)
      #=> %{"MB..." => %{name: "Echo", count: 2, instances: %{"uuid" => %{host_id: "N...", ...}}, ...}}

  It subscribes to the lattice-wide events (`Wasmhost.subscribe_lattice_events/2`) of the hosts it
  is given (`host:` or `hosts:`, the hosts of this VM; in a NATS lattice they may be several), so
  hosts in other OS processes are seen too, from their first event on (their heartbeat at the
  latest), and seeds itself from the given hosts' inventories and links, so it is complete from
  the start for them. Events are idempotent on the picture (instances are keyed by id), so an
  event seen both in the seed and in the stream counts once; an event that arrives again through a
  second local host's subscription (same CloudEvent id) is dropped. A heartbeat replaces what is
  known about its host's instances, which heals any missed event.
  """

  use GenServer

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

  @doc """
  Starts the monitor. Options: `host:` (a `Wasmhost.Host`) or `hosts:` (a list of them), and the
  usual GenServer `name:`.
  """
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts) do
    {host, opts} = Keyword.pop(opts, :host)
    {hosts, opts} = Keyword.pop(opts, :hosts, List.wrap(host))

    unless hosts != [] and Enum.all?(hosts, &match?(%Wasmhost.Host{}, &1)),
      do: raise(ArgumentError, "Wasmhost.Lattice needs host: %Wasmhost.Host{} or hosts: [...]")

    GenServer.start_link(__MODULE__, hosts, opts)
  end

  @doc "Hosts by id."
  @spec hosts(GenServer.server()) :: %{String.t() => host_state()}
  def hosts(lattice), do: GenServer.call(lattice, :hosts)

  @doc "Running actors by public key; actors without instances are left out."
  @spec actors(GenServer.server()) :: %{String.t() => actor_state()}
  def actors(lattice), do: GenServer.call(lattice, :actors)

  @doc "Link definitions keyed by `{actor_id, contract_id, link_name}`."
  @spec links(GenServer.server()) :: %{{String.t(), String.t(), String.t()} => Wasmhost.link()}
  def links(lattice), do: GenServer.call(lattice, :links)

  ## Server

  @impl true
  def init(hosts) do
    state =
      Enum.reduce(
        hosts,
        %{hosts: %{}, actors: %{}, links: %{}, seen: {MapSet.new(), :queue.new()}},
        fn host, acc ->
          :ok = Wasmhost.subscribe_lattice_events(host, self())
          seed(acc, host)
        end
      )

    {:ok, state}
  end

  @impl true
  def handle_call(:hosts, _from, state), do: {:reply, state.hosts, state}

  def handle_call(:actors, _from, state),
    do: {:reply, Map.filter(state.actors, fn {_, a} -> a.count > 0 end), state}

  def handle_call(:links, _from, state), do: {:reply, state.links, state}

  @impl true
  def handle_info({:wasmhost_event, _host_id, event}, state) do
    case first_sight(state, event["id"]) do
      {:new, state} ->
        {:noreply,
         apply_event(state, Wasmhost.event_name(event), event["source"], event["data"] || %{})}

      :seen ->
        {:noreply, state}
    end
  end

  def handle_info(_other, state), do: {:noreply, state}

  # How many recent event ids are remembered to drop the copies that several local hosts of one
  # lattice each deliver (a copy arrives right after the original, so a short memory suffices).
  @seen_ids 4096

  defp first_sight(state, id) when is_binary(id) and id != "" do
    {set, order} = state.seen

    cond do
      MapSet.member?(set, id) ->
        :seen

      MapSet.size(set) >= @seen_ids ->
        {{:value, oldest}, order} = :queue.out(order)

        {:new,
         %{state | seen: {set |> MapSet.delete(oldest) |> MapSet.put(id), :queue.in(id, order)}}}

      true ->
        {:new, %{state | seen: {MapSet.put(set, id), :queue.in(id, order)}}}
    end
  end

  defp first_sight(state, _id), do: {:new, state}

  ## Seeding from the host we were given

  defp seed(state, host) do
    {:ok, inv} = Wasmhost.inventory(host)
    host_id = inv["host_id"]

    state =
      put_host(state, host_id, %{
        "friendly_name" => inv["friendly_name"],
        "labels" => inv["labels"]
      })

    state =
      for actor <- inv["actors"] || [], instance <- actor["instances"] || [], reduce: state do
        acc ->
          acc
          |> describe_actor(actor["id"], %{
            name: actor["name"],
            image_ref: actor["image_ref"],
            revision: instance["revision"]
          })
          |> put_instance(
            actor["id"],
            instance["instance_id"],
            host_id,
            instance["annotations"] || %{}
          )
      end

    Enum.reduce(Wasmhost.links(host), state, &put_link(&2, &1))
  end

  ## Events

  @doc false
  # Exposed for the tests of the event reducer; `state` is the server state.
  def apply_event(state, "host_started", host_id, data), do: put_host(state, host_id, data)

  def apply_event(state, "host_heartbeat", host_id, data) do
    state = put_host(state, host_id, data)
    live = Map.new(data["actors"] || [], &{&1["instance_id"], &1["public_key"]})

    # Drop this host's instances the heartbeat no longer lists; add the ones it lists.
    state =
      update_in(state.actors, fn actors ->
        Map.new(actors, fn {pk, actor} ->
          instances =
            Map.filter(actor.instances, fn {id, i} ->
              i.host_id != host_id or Map.has_key?(live, id)
            end)

          {pk, %{actor | instances: instances, count: map_size(instances)}}
        end)
      end)

    Enum.reduce(live, state, fn {instance_id, pk}, acc ->
      if get_in(acc, [:actors, pk, :instances, instance_id]),
        do: acc,
        else: put_instance(acc, pk, instance_id, host_id, %{})
    end)
  end

  def apply_event(state, "host_stopped", host_id, _data) do
    state = %{state | hosts: Map.delete(state.hosts, host_id)}

    update_in(state.actors, fn actors ->
      Map.new(actors, fn {pk, actor} ->
        instances = Map.filter(actor.instances, fn {_, i} -> i.host_id != host_id end)
        {pk, %{actor | instances: instances, count: map_size(instances)}}
      end)
    end)
  end

  def apply_event(state, "actor_started", host_id, data) do
    claims = data["claims"] || %{}

    state
    |> describe_actor(data["public_key"], %{
      name: claims["name"],
      image_ref: data["image_ref"],
      revision: claims["revision"]
    })
    |> put_instance(data["public_key"], data["instance_id"], host_id, data["annotations"] || %{})
  end

  def apply_event(state, "actor_stopped", _host_id, %{"public_key" => pk, "instance_id" => id}) do
    case state.actors do
      %{^pk => actor} ->
        instances = Map.delete(actor.instances, id)
        put_in(state.actors[pk], %{actor | instances: instances, count: map_size(instances)})

      _ ->
        state
    end
  end

  def apply_event(state, "actor_updated", _host_id, %{"public_key" => pk, "revision" => rev}) do
    case state.actors do
      %{^pk => actor} -> put_in(state.actors[pk], %{actor | revision: rev})
      _ -> state
    end
  end

  def apply_event(state, "linkdef_set", _host_id, data) do
    put_link(state, %{
      actor_id: data["actor_id"],
      provider_id: data["provider_id"],
      contract_id: data["contract_id"],
      link_name: data["link_name"],
      values: data["values"] || %{}
    })
  end

  def apply_event(state, "linkdef_deleted", _host_id, data) do
    %{
      state
      | links: Map.delete(state.links, {data["actor_id"], data["contract_id"], data["link_name"]})
    }
  end

  def apply_event(state, _other, _host_id, _data), do: state

  defp put_host(state, nil, _data), do: state

  defp put_host(state, host_id, data) do
    known =
      Map.get(state.hosts, host_id, %{
        friendly_name: nil,
        labels: %{},
        uptime_seconds: nil,
        version: nil
      })

    host = %{
      known
      | friendly_name: data["friendly_name"] || known.friendly_name,
        labels: data["labels"] || known.labels,
        uptime_seconds: data["uptime_seconds"] || known.uptime_seconds,
        version: data["version"] || known.version
    }

    put_in(state.hosts[host_id], host)
  end

  defp describe_actor(state, pk, fields) do
    actor =
      Map.get(state.actors, pk, %{
        name: nil,
        image_ref: nil,
        revision: nil,
        count: 0,
        instances: %{}
      })

    fields = Map.reject(fields, fn {_, v} -> is_nil(v) end)
    put_in(state.actors[pk], Map.merge(actor, fields))
  end

  defp put_instance(state, pk, instance_id, host_id, annotations) do
    state = describe_actor(state, pk, %{})
    actor = state.actors[pk]

    instances =
      Map.put(actor.instances, instance_id, %{host_id: host_id, annotations: annotations})

    put_in(state.actors[pk], %{actor | instances: instances, count: map_size(instances)})
  end

  defp put_link(state, link),
    do: put_in(state.links[{link.actor_id, link.contract_id, link.link_name}], link)
end
