//! A destructive tool that asks the user to confirm first, and a result with display
//! hints on the confirmed path.
//!
//! ```sh
//! PILLAR_SECRET=plr_local cargo run --example confirmation
//! # then, in another terminal, with the `pillar` command (`cargo install --path cli`):
//! export PILLAR_SECRET=plr_local
//! # the first call answers a confirmation request...
//! pillar call cancel_subscription --args '{"account_id": "acct_7"}'
//! # ...and the confirmed re-call, carrying the confirmation's payload, does the work:
//! pillar call cancel_subscription --args '{"account_id": "acct_7", "refund": true}' --confirm
//! ```

use pillar::{Action, Confirmation, DisplayResult, Reply, ToolContext};

#[derive(Debug, thiserror::Error)]
enum BillingError {
    #[error("account {0} has no active subscription")]
    NoSubscription(String),
}

/// Cancel an account's subscription at the end of the billing period.
#[pillar::tool(
    guidance = "Only when the user explicitly asks to cancel. Always confirm first.",
    channels = ["web", "slack"]
)]
async fn cancel_subscription(
    /// The account whose subscription ends
    account_id: String,
    /// Refund the unused part of the period
    refund: Option<bool>,
    ctx: &ToolContext,
) -> Result<Reply<DisplayResult>, BillingError> {
    if account_id == "acct_free" {
        return Err(BillingError::NoSubscription(account_id));
    }
    if !ctx.confirmed() {
        // First call: describe what will happen, and fix the input of the confirmed call.
        return Ok(Confirmation::new()
            .title("Cancel subscription")
            .message(format!("Cancel the Pro plan of {account_id}?"))
            .detail("Account", &account_id)
            .detail("Plan", "Pro, $49/month")
            .detail("Ends", "at the end of the current period")
            .payload(serde_json::json!({ "account_id": account_id, "refund": true }))
            .into());
    }
    // Confirmed re-call: the input is the payload above.
    let refunded = refund.unwrap_or(false);
    Ok(Reply::Done(
        DisplayResult::new(format!("The subscription of {account_id} is cancelled."))
            .data(serde_json::json!({ "account_id": account_id, "refunded": refunded }))
            .action(Action::open_url(
                "View billing",
                format!("https://app.example.com/accounts/{account_id}/billing"),
            )),
    ))
}

#[tokio::main]
async fn main() -> Result<(), pillar::Error> {
    pillar::serve().await
}
