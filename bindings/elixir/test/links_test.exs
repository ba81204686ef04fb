defmodule Wasmhost.LinksTest do
  use ExUnit.Case, async: true
  import Wasmhost.TestHelpers

  test "put, list, replace and delete link definitions" do
    host = test_host()
    assert Wasmhost.links(host) == []

    :ok =
      Wasmhost.put_link(host, %{
        actor_id: echo_key(),
        provider_id: "VP1",
        contract_id: "wasmcloud:keyvalue",
        values: %{"url" => "redis://x"}
      })

    assert [
             %{
               actor_id: a,
               provider_id: "VP1",
               link_name: "default",
               values: %{"url" => "redis://x"}
             }
           ] = Wasmhost.links(host)

    assert a == echo_key()

    # Same actor, contract and link name: replaced.
    :ok =
      Wasmhost.put_link!(host,
        actor_id: echo_key(),
        provider_id: "VP2",
        contract_id: "wasmcloud:keyvalue"
      )

    :ok =
      Wasmhost.put_link!(host,
        actor_id: echo_key(),
        provider_id: "VP3",
        contract_id: "wasmcloud:keyvalue",
        link_name: "cache"
      )

    assert [%{provider_id: "VP3", link_name: "cache"}, %{provider_id: "VP2", values: %{}}] =
             Enum.sort_by(Wasmhost.links(host), & &1.link_name)

    assert {:ok, true} = Wasmhost.delete_link(host, echo_key(), "wasmcloud:keyvalue", "cache")
    assert {:ok, false} = Wasmhost.delete_link(host, echo_key(), "wasmcloud:keyvalue", "cache")
    assert [%{link_name: "default"}] = Wasmhost.links(host)
    Wasmhost.stop_host(host)
  end

  test "invalid links" do
    host = test_host()

    assert {:error, {:invalid_input, msg}} =
             Wasmhost.put_link(host, actor_id: "", provider_id: "V", contract_id: "c:x")

    assert msg =~ "actor_id"

    assert_raise ArgumentError, fn ->
      Wasmhost.put_link(host, actor_id: echo_key(), contract_id: "c:x")
    end

    assert_raise ArgumentError, fn -> Wasmhost.put_link(host, :link) end

    assert_raise ArgumentError, fn ->
      Wasmhost.put_link(host, actor_id: "M", provider_id: "V", contract_id: "c", values: [1])
    end

    Wasmhost.stop_host(host)
  end
end
