//! Issue 19: payloads above the 900 KiB threshold between the 2022 `RpcClient` (wasmbus-rpc
//! 0.11.2, async-nats 0.23's object store) and an actor on `wasmhost up`, byte-exact both ways.
//! Before the fix the client failed reading the host's chunked response with
//! ``missing field `modified` ``: async-nats 0.51 wrote object info that 0.23 cannot parse.

mod common;

use common::{
    accepted, connect_client, discover_host, example_actor, httpserver_origin, rpc_client,
    wait_for_instances, HttpRequest, HttpResponse,
};
use std::collections::HashMap;
use wascap::prelude::KeyPair;
use wasmhost_interop::{HostProcess, NatsServer, Steps};

const LATTICE: &str = "large";
const PROVIDER_KEY: &str = "VD4JAQI6QCBMSDPBDHVMBCURPGK6CSYMXIQVTQ32UGJ3FAG4S2OOP6UI";
const TWO_MIB: usize = 2 << 20;

#[derive(serde::Deserialize)]
struct EchoBody {
    body: String,
    body_len: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2022_rpc_client_exchanges_2_mib_with_an_actor() {
    // Clustered: the only JetStream whose object store async-nats 0.23 can read (see there).
    let nats_server = NatsServer::start_clustered();
    let cluster = KeyPair::new_cluster();
    let cluster_seed = cluster.seed().expect("cluster seed");
    let host = HostProcess::start(
        &nats_server.url(),
        &[
            ("WASMCLOUD_LATTICE_PREFIX", LATTICE),
            ("WASMCLOUD_CLUSTER_SEED", cluster_seed.as_str()),
        ],
    );
    let echo = example_actor("echo");
    let (nats, client, _events) = connect_client(nats_server.url(), LATTICE).await;
    let mut steps = Steps::default();
    let Some(host_id) = discover_host(&mut steps, &client, &host, |_| true).await else {
        return;
    };
    let started = steps
        .run("start_actor echo", async {
            accepted(client.start_actor(&host_id, &echo.reference, 1, None).await)?;
            wait_for_instances(&client, &host_id, &echo.key, 1).await
        })
        .await
        .is_some();
    if !started {
        steps.blocked("2 MiB calls", "start_actor echo");
        return steps.finish(&host.log_text());
    }
    let rpc = rpc_client(&nats, &cluster).expect("RpcClient");
    let call = |method: &'static str, arg: Vec<u8>| {
        common::send(
            &rpc,
            httpserver_origin(PROVIDER_KEY),
            common::actor_entity(&echo.key),
            LATTICE,
            method,
            arg,
        )
    };

    steps
        .run(
            "HttpServer.HandleRequest: 2 MiB body in, 2 MiB JSON out",
            async {
                // Printable ASCII that JSON keeps as is, so the echoed body can be compared exactly.
                let body: Vec<u8> = (0..TWO_MIB).map(|i| b'a' + (i % 26) as u8).collect();
                let request = HttpRequest {
                    method: "POST".into(),
                    path: "/big".into(),
                    query_string: String::new(),
                    header: HashMap::new(),
                    body: body.clone(),
                };
                let arg = wasmbus_rpc::common::serialize(&request).map_err(|e| e.to_string())?;
                let reply = call("HttpServer.HandleRequest", arg).await?;
                let response: HttpResponse =
                    wasmbus_rpc::common::deserialize(&reply).map_err(|e| e.to_string())?;
                if response.status_code != 200 || response.body.len() <= TWO_MIB {
                    return Err(format!(
                        "status {}, {} body bytes",
                        response.status_code,
                        response.body.len()
                    ));
                }
                let echoed: EchoBody =
                    serde_json::from_slice(&response.body).map_err(|e| e.to_string())?;
                if echoed.body_len != TWO_MIB || echoed.body.as_bytes() != body.as_slice() {
                    return Err(format!(
                        "the body came back changed ({} bytes)",
                        echoed.body_len
                    ));
                }
                Ok(())
            },
        )
        .await;

    steps
        .run("Echo.Echo: 2 MiB of binary bytes, byte-exact back", async {
            let payload: Vec<u8> = (0..TWO_MIB)
                .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0])
                .collect();
            let reply = call("Echo.Echo", payload.clone()).await?;
            if reply != payload {
                return Err(format!(
                    "{} bytes came back, not the {} sent",
                    reply.len(),
                    payload.len()
                ));
            }
            Ok(())
        })
        .await;
    steps.finish(&host.log_text());
}
