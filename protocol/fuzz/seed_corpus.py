#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target (corpus/<target>/seed-*) from the test vectors.

Seeds are named `seed-<vector>`; the files libFuzzer adds while it runs have hash names, so
the two never collide. Run again after a vector changes: it rewrites the seed files only.
"""
import base64
import gzip
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
VECTORS = HERE.parent / "tests" / "vectors"
CORPUS = HERE / "corpus"


def vector(name):
    return (VECTORS / name).read_bytes()


def sidecar(name):
    return json.loads(vector(name))


def jwt_claims_segment(token):
    segment = token.split(".")[1]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def seeds():
    tokens = {
        "actor_wascap08.jwt": sidecar("actor_wascap08.claims.json")["token"]["jwt"],
        "actor_wascap09.jwt": sidecar("actor_wascap09.claims.json")["token"]["jwt"],
        "provider.jwt": sidecar("provider.claims.json")["token"]["jwt"],
        "invocation.jwt": sidecar("invocation.json")["encoded_claims_decoded"]["jwt"],
    }
    claims = {}
    for name, token in tokens.items():
        claims[name] = token.encode()
        claims[name.replace(".jwt", ".claims.json")] = jwt_claims_segment(token)
    subjects = {
        f"{i:02}.subject": entry["subject"].encode()
        for i, entry in enumerate(sidecar("ctl_subjects.json").values())
    }
    subjects["host_pipe_verb.subject"] = b"NDRXEHLF3QKEWHCGCO7MKGA3ZIPEUTDMJ2E5R3GPJDVCDX3UXD2XSHBH|scale"
    heartbeat = json.loads(vector("event_host_heartbeat.json"))
    return {
        "ctl_json": {
            **{p.name: p.read_bytes() for p in sorted(VECTORS.glob("ctl_*.json")) if p.name != "ctl_subjects.json"},
            "linkdef.json": vector("linkdef.json"),
            "empty_object.json": b"{}",
        },
        "invocation": {n: vector(n) for n in ["invocation.msgpack", "invocation_rpcclient_capture.msgpack"]},
        "invocation_response": {
            n: vector(n) for n in ["invocation_response.msgpack", "invocation_response_error.msgpack"]
        },
        "link_definition": {"linkdef.msgpack": vector("linkdef.msgpack")},
        "claims_jwt": claims,
        "actor_module": {
            n: vector(n)
            for n in [
                "actor_unsigned.wasm",
                "actor_wascap08.wasm",
                "actor_wascap09.wasm",
                "actor_wascap08_tampered.wasm",
                "actor_wascap09_tampered.wasm",
            ]
        },
        "host_data": {
            n: vector(n)
            for n in ["host_data.b64", "host_data.json", "host_data_otp059_shape.b64", "host_data_otp059_shape.json"]
        },
        "http": {n: vector(n) for n in ["http_request.msgpack", "http_response.msgpack"]},
        "keyvalue": {p.name: p.read_bytes() for p in sorted(VECTORS.glob("kv_*.msgpack"))},
        "cloud_event": {
            "event_host_heartbeat.json": vector("event_host_heartbeat.json"),
            "heartbeat_data.json": json.dumps(heartbeat["data"], separators=(",", ":")).encode(),
        },
        "subjects": subjects,
        "provider_archive": {
            "provider.par.gz": vector("provider.par.gz"),
            "provider.par": gzip.decompress(vector("provider.par.gz")),
        },
    }


def main():
    for target, files in seeds().items():
        folder = CORPUS / target
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("seed-*"):
            old.unlink()
        for name, data in files.items():
            (folder / f"seed-{name}").write_bytes(data)
        print(f"{target}: {len(files)} seeds")


if __name__ == "__main__":
    main()
