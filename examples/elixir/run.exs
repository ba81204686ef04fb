# Embeds a wasmhost, runs the echo and kvcounter example actors, keeps kvcounter's counters in an
# Elixir Agent, and prints the lattice events. Run: cd examples/elixir && mix run run.exs
alias Wasmhost.Msgpack

actors = Path.expand("../actors", __DIR__)

http_get = fn host, actor, path ->
  request = %{
    "method" => "GET",
    "path" => path,
    "queryString" => "",
    "header" => %{},
    "body" => {:bin, ""}
  }

  reply = Wasmhost.call!(host, actor, "HttpServer.HandleRequest", Msgpack.encode(request))
  %{"statusCode" => status, "body" => body} = Msgpack.decode!(reply)
  {status, body}
end

{:ok, host} = Wasmhost.start_host(friendly_name: "elixir-example")
IO.puts("host #{host.id} (#{Wasmhost.friendly_name(host)}) started")

# Events arrive as messages; a small process prints them and says when the host has stopped.
defmodule EventPrinter do
  def loop(parent) do
    receive do
      {:wasmhost_event, _host_id, event} ->
        name = Wasmhost.event_name(event)

        IO.puts(
          "  event #{name} #{inspect(Map.take(event["data"], ["public_key", "instance_id"]))}"
        )

        if name == "host_stopped", do: send(parent, :host_stopped), else: loop(parent)
    end
  end
end

parent = self()
printer = spawn_link(fn -> EventPrinter.loop(parent) end)

:ok = Wasmhost.subscribe_events(host, printer)

echo = Wasmhost.start_actor!(host, Path.join(actors, "echo.wasm"))

IO.puts(
  "echo #{echo.public_key}: #{inspect(Wasmhost.call!(host, echo.public_key, "Echo.Echo", "hello from Elixir"))}"
)

IO.puts("echo HandleRequest: #{inspect(http_get.(host, echo.public_key, "/hello"))}")

store = WasmhostExample.AgentKeyValue.start(host)
kv = Wasmhost.start_actor!(host, Path.join(actors, "kvcounter.wasm"))

for path <- ["/", "/", "/page/1"] do
  {200, body} = http_get.(host, kv.public_key, path)
  IO.puts("kvcounter GET #{path} -> #{body}")
end

IO.puts("Agent holds #{inspect(Agent.get(store, & &1))}")
:ok = Wasmhost.stop_host(host)

# Let the printer show the last events before the script ends.
receive do: (:host_stopped -> :ok)
