defmodule Wasmhost.Msgpack do
  @moduledoc """
  The small subset of MessagePack that capability handlers and examples need to speak the 2022
  wasmCloud interfaces (maps with string keys, strings, byte strings, integers, booleans, nil,
  floats and lists).

  Encoding: valid UTF-8 binaries become msgpack `str`, other binaries and `{:bin, binary}` become
  `bin`; atoms other than booleans and `nil` become `str`. Decoding returns `str` and `bin` both
  as binaries.

      iex> Wasmhost.Msgpack.encode(%{"key" => "counter", "value" => 1}) |> Wasmhost.Msgpack.decode()
      {:ok, %{"key" => "counter", "value" => 1}}
  """

  @type value ::
          nil
          | boolean()
          | integer()
          | float()
          | binary()
          | {:bin, binary()}
          | atom()
          | [value()]
          | %{optional(value()) => value()}

  @doc "Encodes `value`; raises `ArgumentError` for terms msgpack cannot carry (pids, tuples...)."
  @spec encode(value()) :: binary()
  def encode(value), do: value |> enc() |> IO.iodata_to_binary()

  @doc "Decodes one msgpack value that fills all of `bytes`."
  @spec decode(binary()) :: {:ok, value()} | {:error, String.t()}
  def decode(bytes) when is_binary(bytes) do
    case dec(bytes) do
      {value, <<>>} -> {:ok, value}
      {_value, rest} -> {:error, "#{byte_size(rest)} trailing bytes after the msgpack value"}
    end
  catch
    {:msgpack, reason} -> {:error, reason}
  end

  @doc "Like `decode/1`, raising `ArgumentError` on malformed input."
  @spec decode!(binary()) :: value()
  def decode!(bytes) do
    case decode(bytes) do
      {:ok, value} -> value
      {:error, reason} -> raise ArgumentError, "invalid msgpack: #{reason}"
    end
  end

  ## Encoding

  defp enc(nil), do: <<0xC0>>
  defp enc(false), do: <<0xC2>>
  defp enc(true), do: <<0xC3>>
  defp enc(n) when is_integer(n) and n >= 0 and n < 128, do: <<n>>
  defp enc(n) when is_integer(n) and n < 0 and n >= -32, do: <<n::signed-8>>
  defp enc(n) when is_integer(n) and n >= 0 and n < 0x100, do: <<0xCC, n>>
  defp enc(n) when is_integer(n) and n >= 0 and n < 0x10000, do: <<0xCD, n::16>>
  defp enc(n) when is_integer(n) and n >= 0 and n < 0x100000000, do: <<0xCE, n::32>>
  defp enc(n) when is_integer(n) and n >= 0 and n < 0x10000000000000000, do: <<0xCF, n::64>>
  defp enc(n) when is_integer(n) and n >= -0x80, do: <<0xD0, n::signed-8>>
  defp enc(n) when is_integer(n) and n >= -0x8000, do: <<0xD1, n::signed-16>>
  defp enc(n) when is_integer(n) and n >= -0x80000000, do: <<0xD2, n::signed-32>>
  defp enc(n) when is_integer(n) and n >= -0x8000000000000000, do: <<0xD3, n::signed-64>>
  defp enc(f) when is_float(f), do: <<0xCB, f::float-64>>
  defp enc({:bin, b}) when is_binary(b), do: [bin_header(byte_size(b)), b]

  defp enc(b) when is_binary(b) do
    if String.valid?(b), do: [str_header(byte_size(b)), b], else: enc({:bin, b})
  end

  defp enc(a) when is_atom(a), do: enc(Atom.to_string(a))

  defp enc(list) when is_list(list),
    do: [array_header(length(list)) | Enum.map(list, &enc/1)]

  defp enc(map) when is_map(map) and not is_struct(map),
    do: [map_header(map_size(map)) | Enum.map(map, fn {k, v} -> [enc(k), enc(v)] end)]

  defp enc(other), do: raise(ArgumentError, "cannot encode #{inspect(other)} as msgpack")

  defp str_header(n) when n < 32, do: <<0b101::3, n::5>>
  defp str_header(n) when n < 0x100, do: <<0xD9, n>>
  defp str_header(n) when n < 0x10000, do: <<0xDA, n::16>>
  defp str_header(n), do: <<0xDB, n::32>>

  defp bin_header(n) when n < 0x100, do: <<0xC4, n>>
  defp bin_header(n) when n < 0x10000, do: <<0xC5, n::16>>
  defp bin_header(n), do: <<0xC6, n::32>>

  defp array_header(n) when n < 16, do: <<0b1001::4, n::4>>
  defp array_header(n) when n < 0x10000, do: <<0xDC, n::16>>
  defp array_header(n), do: <<0xDD, n::32>>

  defp map_header(n) when n < 16, do: <<0b1000::4, n::4>>
  defp map_header(n) when n < 0x10000, do: <<0xDE, n::16>>
  defp map_header(n), do: <<0xDF, n::32>>

  ## Decoding: each clause returns {value, rest}

  defp dec(<<0xC0, rest::binary>>), do: {nil, rest}
  defp dec(<<0xC2, rest::binary>>), do: {false, rest}
  defp dec(<<0xC3, rest::binary>>), do: {true, rest}
  defp dec(<<0::1, n::7, rest::binary>>), do: {n, rest}
  defp dec(<<0b111::3, _::5, _::binary>> = b), do: neg_fixint(b)
  defp dec(<<0xCC, n, rest::binary>>), do: {n, rest}
  defp dec(<<0xCD, n::16, rest::binary>>), do: {n, rest}
  defp dec(<<0xCE, n::32, rest::binary>>), do: {n, rest}
  defp dec(<<0xCF, n::64, rest::binary>>), do: {n, rest}
  defp dec(<<0xD0, n::signed-8, rest::binary>>), do: {n, rest}
  defp dec(<<0xD1, n::signed-16, rest::binary>>), do: {n, rest}
  defp dec(<<0xD2, n::signed-32, rest::binary>>), do: {n, rest}
  defp dec(<<0xD3, n::signed-64, rest::binary>>), do: {n, rest}
  defp dec(<<0xCA, f::float-32, rest::binary>>), do: {f, rest}
  defp dec(<<0xCB, f::float-64, rest::binary>>), do: {f, rest}
  defp dec(<<0b101::3, n::5, rest::binary>>), do: take(rest, n)
  defp dec(<<0xD9, n, rest::binary>>), do: take(rest, n)
  defp dec(<<0xDA, n::16, rest::binary>>), do: take(rest, n)
  defp dec(<<0xDB, n::32, rest::binary>>), do: take(rest, n)
  defp dec(<<0xC4, n, rest::binary>>), do: take(rest, n)
  defp dec(<<0xC5, n::16, rest::binary>>), do: take(rest, n)
  defp dec(<<0xC6, n::32, rest::binary>>), do: take(rest, n)
  defp dec(<<0b1001::4, n::4, rest::binary>>), do: list(rest, n, [])
  defp dec(<<0xDC, n::16, rest::binary>>), do: list(rest, n, [])
  defp dec(<<0xDD, n::32, rest::binary>>), do: list(rest, n, [])
  defp dec(<<0b1000::4, n::4, rest::binary>>), do: map(rest, n, %{})
  defp dec(<<0xDE, n::16, rest::binary>>), do: map(rest, n, %{})
  defp dec(<<0xDF, n::32, rest::binary>>), do: map(rest, n, %{})
  defp dec(<<>>), do: throw({:msgpack, "unexpected end of input"})

  defp dec(<<tag, _::binary>>),
    do: throw({:msgpack, "unsupported or truncated type 0x#{Integer.to_string(tag, 16)}"})

  defp neg_fixint(<<n::signed-8, rest::binary>>), do: {n, rest}

  defp take(bytes, n) do
    case bytes do
      <<value::binary-size(n), rest::binary>> -> {value, rest}
      _ -> throw({:msgpack, "unexpected end of input"})
    end
  end

  defp list(rest, 0, acc), do: {Enum.reverse(acc), rest}

  defp list(bytes, n, acc) do
    {value, rest} = dec(bytes)
    list(rest, n - 1, [value | acc])
  end

  defp map(rest, 0, acc), do: {acc, rest}

  defp map(bytes, n, acc) do
    {key, rest} = dec(bytes)
    {value, rest} = dec(rest)
    map(rest, n - 1, Map.put(acc, key, value))
  end
end
