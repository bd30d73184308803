//! A user's test suite with `pillar::testing`: tools tested in process, through the
//! signed webhook, and end to end over HTTP against the mock Pillar Cloud.
//!
//! ```text
//! cargo test --example testing     # the tests below (also run by cargo test --workspace)
//! cargo run --example testing      # the same steps as a walkthrough, printed
//! ```
//!
//! The layers, from fastest to most complete:
//!
//! 1. `testing::call(&pillar, "tool", args)`: runs one tool in process through the same
//!    argument parsing, timeout and panic guard as a webhook call. Use it for most tests.
//! 2. `pillar.run_tool(name, &args, ctx)` with `ToolContext::builder()`: the same, with a
//!    chosen caller (channel, user) or a confirmed re-call.
//! 3. `pillar.handle(&body, &headers)` with `testing::tool_call_body` and
//!    `protocol::signed_headers`: the whole webhook, signature included, no network.
//! 4. `MockCloud` and `WebhookClient`: a real server (`serve_on`) on 127.0.0.1, its
//!    registration captured by a fake Pillar Cloud, calls sent signed over HTTP.

use std::time::Duration;

use pillar::protocol::{self, WebhookClient};
use pillar::testing::{self, MockCloud, TEST_SECRET};
use pillar::{Confirmation, Pillar, Reply, ToolContext};
use serde::Serialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

// ---------------------------------------------------------------------------------
// The application's tools

/// A plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Plan {
    Free,
    Pro,
}

#[derive(Debug, Serialize)]
struct Customer {
    email: String,
    plan: Plan,
}

#[derive(Debug, Serialize)]
struct Cancelled {
    email: String,
    cancelled: bool,
}

#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error("no customer has the email {0}")]
    NotFound(String),
}

fn find(email: &str) -> Result<Customer, AppError> {
    match email {
        "sarah@acme.com" => Ok(Customer {
            email: email.to_owned(),
            plan: Plan::Pro,
        }),
        "li@globex.com" => Ok(Customer {
            email: email.to_owned(),
            plan: Plan::Free,
        }),
        _ => Err(AppError::NotFound(email.to_owned())),
    }
}

/// Look up a customer by email.
#[pillar::tool]
async fn lookup_customer(
    /// The customer's email address
    email: String,
) -> Result<Customer, AppError> {
    find(&email)
}

/// Cancel a customer's subscription. Asks the user to confirm first.
#[pillar::tool(channels = ["web", "slack"])]
async fn cancel_subscription(
    email: String,
    ctx: &ToolContext,
) -> Result<Reply<Cancelled>, AppError> {
    let customer = find(&email)?;
    if !ctx.confirmed() {
        return Ok(Confirmation::new()
            .title("Cancel subscription")
            .message(format!(
                "Cancel the {:?} plan of {}?",
                customer.plan, customer.email
            ))
            .into());
    }
    Ok(Reply::Done(Cancelled {
        email: customer.email,
        cancelled: true,
    }))
}

/// The application's `Pillar`, as `main` would build it (here with the test secret).
fn app() -> Result<Pillar, pillar::Error> {
    testing::pillar().auto_register(false).build()
}

/// Runs `pillar` with `serve_on` on 127.0.0.1:0; returns its URL and a stop switch.
async fn serve(
    pillar: Pillar,
) -> std::io::Result<(
    String,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), pillar::Error>>,
)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(pillar.serve_on(listener, async move {
        let _ = stopped.await;
    }));
    Ok((url, stop, task))
}

/// The walkthrough: the same steps as the tests, printed.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The SDK's logs: registration with the mock Cloud shows up in step 4.
    tracing_subscriber::fmt().init();
    let pillar = app()?;

    // 1. In process.
    let customer = testing::call(
        &pillar,
        "lookup_customer",
        json!({"email": "sarah@acme.com"}),
    )
    .await?;
    println!("1. in process: lookup_customer -> {customer}");

    // 3. Through the signed webhook, without a network.
    let body = testing::tool_call_body(
        "cancel_subscription",
        "tc_1",
        json!({"email": "li@globex.com"}),
    );
    let (status, answer) = pillar
        .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
        .await
        .into_parts();
    println!(
        "3. webhook: cancel_subscription -> {status} {}",
        answer.to_value()
    );

    // 4. Over HTTP, registered with a mock Pillar Cloud.
    let cloud = MockCloud::start().await?;
    let pillar = testing::pillar()
        .endpoint_url("http://127.0.0.1/pillar")
        .api_url(cloud.url())
        .build()?;
    let (url, stop, task) = serve(pillar).await?;
    let registration = cloud
        .wait_for_registration(Duration::from_secs(5))
        .await
        .ok_or("the server did not register with the mock Cloud")?;
    println!(
        "4. registered with the mock Cloud: {}",
        registration.json["tools"].as_array().map_or(0, Vec::len)
    );
    let (status, answer) = WebhookClient::new(&url, TEST_SECRET)
        .confirm_tool("cancel_subscription", json!({"email": "li@globex.com"}))
        .await?;
    println!("   confirmed over HTTP: {status} {answer}");

    let _ = stop.send(());
    task.await??;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pillar::testing::Mode;
    use pillar::{Channel, ToolCallErrorKind};

    #[tokio::test]
    async fn lookup_finds_a_customer() {
        let pillar = app().unwrap();
        let customer = testing::call(
            &pillar,
            "lookup_customer",
            json!({"email": "sarah@acme.com"}),
        )
        .await
        .unwrap();
        assert_eq!(customer, json!({"email": "sarah@acme.com", "plan": "pro"}));
    }

    #[tokio::test]
    async fn errors_are_what_the_agent_sees() {
        let pillar = app().unwrap();
        let err = testing::call(&pillar, "lookup_customer", json!({"email": "nobody@x.com"}))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ToolCallErrorKind::Failed);
        assert_eq!(err.message(), "no customer has the email nobody@x.com");

        let err = testing::call(&pillar, "lookup_customer", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ToolCallErrorKind::InvalidArguments);
        assert!(err.message().contains("email"), "{}", err.message());
    }

    #[tokio::test]
    async fn cancelling_asks_for_confirmation_first() {
        let pillar = app().unwrap();
        let args = json!({"email": "li@globex.com"});

        let first = testing::call(&pillar, "cancel_subscription", args.clone())
            .await
            .unwrap();
        assert_eq!(first["confirmation_required"], true);
        assert_eq!(first["title"], "Cancel subscription");

        let confirmed = pillar
            .run_tool(
                "cancel_subscription",
                &args,
                ToolContext::builder().confirmed(true).build(),
            )
            .await
            .unwrap();
        assert_eq!(
            confirmed,
            json!({"email": "li@globex.com", "cancelled": true})
        );
    }

    #[tokio::test]
    async fn cancelling_is_not_offered_by_email() {
        let pillar = app().unwrap();
        let ctx = ToolContext::builder()
            .channel(Channel::from_name("email"))
            .build();
        let err = pillar
            .run_tool(
                "cancel_subscription",
                &json!({"email": "li@globex.com"}),
                ctx,
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ToolCallErrorKind::ChannelNotAllowed);
    }

    #[tokio::test]
    async fn the_signed_webhook_runs_the_confirmed_call() {
        let pillar = app().unwrap();
        let body = testing::tool_confirm_body(
            "cancel_subscription",
            "tc_9",
            json!({"email": "li@globex.com"}),
        );
        let (status, answer) = pillar
            .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
            .await
            .into_parts();
        assert_eq!(status, 200);
        assert_eq!(
            answer.to_value(),
            json!({"call_id": "tc_9", "success": true, "result": {"email": "li@globex.com", "cancelled": true}})
        );

        // A wrong secret is refused.
        let (status, _) = pillar
            .handle(&body, &protocol::signed_headers("plr_wrong", &body))
            .await
            .into_parts();
        assert_eq!(status, 401);
    }

    #[tokio::test]
    async fn the_server_registers_and_answers_over_http() {
        let cloud = MockCloud::start().await.unwrap();
        let pillar = testing::pillar()
            .endpoint_url("https://example.com/pillar")
            .api_url(cloud.url())
            .build()
            .unwrap();
        let (url, stop, task) = serve(pillar).await.unwrap();

        let registration = cloud
            .wait_for_registration(Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(registration.bearer_token(), Some(TEST_SECRET));
        let names: Vec<&str> = registration.json["tools"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(names, ["cancel_subscription", "lookup_customer"]);

        let client = WebhookClient::new(&url, TEST_SECRET);
        let (status, answer) = client
            .call_tool("lookup_customer", json!({"email": "li@globex.com"}))
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert_eq!(answer["result"]["plan"], "free");

        let _ = stop.send(());
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn the_server_keeps_answering_while_the_cloud_fails() {
        let cloud = MockCloud::start().await.unwrap();
        cloud.set_mode(Mode::Status(503));
        let pillar = testing::pillar()
            .endpoint_url("https://example.com/pillar")
            .api_url(cloud.url())
            .registration_backoff(Duration::from_millis(20), Duration::from_millis(200))
            .build()
            .unwrap();
        let (url, stop, task) = serve(pillar).await.unwrap();

        assert!(
            cloud
                .wait_for_registrations(2, Duration::from_secs(5))
                .await
                .len()
                >= 2
        );
        let (status, _) = cloud
            .call_tool(
                &url,
                TEST_SECRET,
                "lookup_customer",
                json!({"email": "sarah@acme.com"}),
            )
            .await
            .unwrap();
        assert_eq!(status, 200);

        cloud.set_mode(Mode::Ok);
        assert!(cloud
            .wait_for_registration(Duration::from_secs(5))
            .await
            .is_some());

        let _ = stop.send(());
        task.await.unwrap().unwrap();
    }
}
