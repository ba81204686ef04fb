# NIF call overhead: `Wasmhost.call/4` (dirty I/O scheduler + hop onto the host's runtime) against
# the Rust API (`Host::call_actor` awaited in a loop in one NIF call, same host and runtime), `Echo.Echo`
# with a 100-byte payload on the in-process echo actor.
#
# Run (release NIF): cd bindings/elixir && WASMHOST_NIF_PROFILE=release mix run bench/call_bench.exs
n = String.to_integer(System.get_env("BENCH_N", "20000"))
size = 100
echo_path = Path.expand("../../../examples/actors/echo.wasm", __DIR__)
payload = :binary.copy(<<0x5A>>, size)

host = Wasmhost.start_host!()
actor = Wasmhost.start_actor!(host, echo_path, count: 4).public_key

percentiles = fn samples ->
  sorted = Enum.sort(samples)
  len = length(sorted)
  at = fn q -> Enum.at(sorted, min(div(len * q, 100), len - 1)) end
  {at.(50), at.(99)}
end

us = fn ns -> :erlang.float_to_binary(ns / 1000, decimals: 2) end

row = fn name, {p50, p99}, base ->
  ratio = if base, do: :erlang.float_to_binary(p50 / elem(base, 0), decimals: 2) <> "x", else: ""

  IO.puts(
    "| #{String.pad_trailing(name, 44)} | #{String.pad_leading(us.(p50), 8)} µs | #{String.pad_leading(us.(p99), 8)} µs | #{String.pad_leading(ratio, 6)} |"
  )
end

nif_samples = fn count ->
  for _ <- 1..count do
    t0 = :erlang.monotonic_time(:nanosecond)
    {:ok, reply} = Wasmhost.call(host, actor, "Echo.Echo", payload)
    t1 = :erlang.monotonic_time(:nanosecond)
    ^size = byte_size(reply)
    t1 - t0
  end
end

# Warm-up: instances, caches, the dirty schedulers.
{:ok, _} = Wasmhost.Native.actor_call_loop(host.resource, actor, "Echo.Echo", payload, div(n, 10))
nif_samples.(div(n, 10))

{:ok, rust} = Wasmhost.Native.actor_call_loop(host.resource, actor, "Echo.Echo", payload, n)
rust = percentiles.(rust)
nif = percentiles.(nif_samples.(n))

IO.puts("| path (Echo.Echo, #{size} B, #{n} calls) | p50 | p99 | vs Rust |")
IO.puts("|---|---:|---:|---:|")
row.("Rust API: Host::call_actor awaited in a loop", rust, nil)
row.("Elixir: Wasmhost.call/4 (NIF, DirtyIo)", nif, rust)
IO.puts("NIF overhead at p50: #{us.(elem(nif, 0) - elem(rust, 0))} µs per call")

# Throughput with several callers (dirty I/O schedulers in parallel).
for callers <- [1, 2, 4, 8] do
  per = div(n, callers)
  t0 = :erlang.monotonic_time(:nanosecond)

  1..callers
  |> Enum.map(fn _ -> Task.async(fn -> nif_samples.(per) end) end)
  |> Enum.each(&Task.await(&1, :infinity))

  secs = (:erlang.monotonic_time(:nanosecond) - t0) / 1.0e9

  IO.puts(
    "Wasmhost.call/4 throughput, #{callers} caller(s): #{round(per * callers / secs)} calls/s"
  )
end

:ok = Wasmhost.stop_host(host)
