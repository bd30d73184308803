//! What the command's tests share: a real server with the SDK's own tools on a free
//! loopback port.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use pillar::testing::TEST_SECRET;
use pillar::{Confirmation, Pillar, PillarBuilder, Reply, Tool};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Arguments of the `lookup` tool: an email is required.
#[derive(Debug, serde::Deserialize, pillar::JsonSchema)]
struct Lookup {
    /// The customer's email
    email: String,
}

/// The tools served: one that succeeds, one that fails, one that asks for confirmation
/// first (and counts its confirmed runs in `removals`), one that tells who called.
pub fn tools(removals: &Arc<AtomicU64>) -> Vec<Tool> {
    let lookup = Tool::builder("lookup")
        .description("Look a customer up by email")
        .typed_handler(|args: Lookup, _ctx| async move {
            Ok::<_, String>(json!({"email": args.email, "plan": "pro"}))
        })
        .build()
        .unwrap();
    let archived = Tool::builder("archived")
        .description("Always fails")
        .handler(|_args: Value, _ctx| async move {
            Err::<Value, _>("the customer is archived: restore it first")
        })
        .build()
        .unwrap();
    let removals = Arc::clone(removals);
    let remove = Tool::builder("remove_member")
        .description("Remove a member, after confirmation")
        .handler(move |args: Value, ctx| {
            let removals = Arc::clone(&removals);
            async move {
                if !ctx.confirmed() {
                    return Ok::<_, String>(Reply::Confirm(
                        Confirmation::new()
                            .title("Remove member")
                            .message("Remove Sarah from the workspace?")
                            .detail("Member", "Sarah")
                            .payload(json!({"user_id": "u_42"})),
                    ));
                }
                let n = removals.fetch_add(1, Ordering::SeqCst) + 1;
                Ok(Reply::Done(
                    json!({"removed": args["user_id"], "removals": n}),
                ))
            }
        })
        .build()
        .unwrap();
    let whoami = Tool::builder("whoami")
        .description("Tells who called, from which conversation")
        .handler(|_args: Value, ctx| async move {
            Ok::<_, String>(json!({
                "caller": serde_json::to_value(ctx.caller()).unwrap(),
                "conversation_id": ctx.conversation_id(),
                "call_id": ctx.call_id(),
            }))
        })
        .build()
        .unwrap();
    vec![lookup, archived, remove, whoami]
}

/// A server on a free loopback port, stopped when dropped.
pub struct Server {
    pub addr: SocketAddr,
    /// How many times `remove_member` ran confirmed.
    pub removals: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
}

impl Server {
    /// With [`tools`] and [`TEST_SECRET`], registering nowhere.
    pub async fn start() -> Self {
        Self::start_with(false, |builder, _| builder.secret(TEST_SECRET)).await
    }

    /// With [`tools`]; `configure` gets the builder and the server's URL. With
    /// `register`, the server registers before it serves (a refused registration
    /// panics).
    pub async fn start_with(
        register: bool,
        configure: impl FnOnce(PillarBuilder, &str) -> PillarBuilder,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let removals = Arc::new(AtomicU64::new(0));
        let mut builder = Pillar::builder().registered_tools(false);
        for tool in tools(&removals) {
            builder = builder.tool(tool);
        }
        let pillar: Pillar = configure(builder, &format!("http://{addr}/"))
            .build()
            .unwrap();
        if register {
            pillar.register().await.unwrap();
        }
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(pillar.serve_on(listener, async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            removals,
            stop: Some(stop),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stops serving: the port refuses connections from now on.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Wait until the listener is closed.
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(self.addr).await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the server at {} did not stop", self.addr);
    }
}
