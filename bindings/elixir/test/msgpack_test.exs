defmodule Wasmhost.MsgpackTest do
  use ExUnit.Case, async: true
  alias Wasmhost.Msgpack
  doctest Wasmhost.Msgpack

  test "round-trips the types the 2022 interfaces use" do
    for value <- [
          nil,
          true,
          false,
          0,
          1,
          127,
          128,
          255,
          256,
          65_535,
          65_536,
          4_294_967_296,
          -1,
          -32,
          -33,
          -128,
          -129,
          -32_768,
          -32_769,
          -2_147_483_649,
          1.5,
          "",
          "key",
          String.duplicate("x", 40),
          String.duplicate("y", 300),
          [],
          [1, "a", [nil]],
          %{},
          %{"key" => "counter", "value" => 1},
          Enum.to_list(1..20),
          Map.new(1..20, &{"k#{&1}", &1})
        ] do
      assert Msgpack.decode(Msgpack.encode(value)) == {:ok, value},
             "round trip of #{inspect(value)}"
    end
  end

  test "byte strings are msgpack bin; strings are str" do
    assert Msgpack.encode({:bin, "ab"}) == <<0xC4, 2, "ab">>
    assert Msgpack.encode(<<255>>) == <<0xC4, 1, 255>>
    assert Msgpack.encode("ab") == <<0xA2, "ab">>
    assert Msgpack.encode(:ok) == <<0xA2, "ok">>
  end

  test "matches rmp-serde's encoding of an IncrementRequest and an i32" do
    # rmp_serde::to_vec_named(&IncrementRequest { key: "counter", value: 1 })
    expected = <<0x82, 0xA3, "key", 0xA7, "counter", 0xA5, "value", 0x01>>
    assert Msgpack.decode(expected) == {:ok, %{"key" => "counter", "value" => 1}}
    assert Msgpack.encode(-5) == <<0xFB>>
    assert Msgpack.encode(300) == <<0xCD, 1, 44>>
  end

  test "malformed input is an error, never a crash" do
    assert {:error, _} = Msgpack.decode(<<>>)
    assert {:error, _} = Msgpack.decode(<<0xA5, "ab">>)
    assert {:error, _} = Msgpack.decode(<<0x92, 1>>)
    assert {:error, _} = Msgpack.decode(<<0xC1>>)
    assert {:error, "1 trailing bytes after the msgpack value"} = Msgpack.decode(<<1, 2>>)
    assert_raise ArgumentError, fn -> Msgpack.decode!(<<0xC1>>) end
    assert_raise ArgumentError, fn -> Msgpack.encode({:tuple, 1}) end
    assert_raise ArgumentError, fn -> Msgpack.encode(self()) end
  end
end
