//! What a tool answers: its result, a request for the user's confirmation, or a result
//! with display hints.

use schemars::{Schema, SchemaGenerator};
// The derive by its own path: with schemars' `derive` feature on (rmcp turns it on, with
// `mcp`), `schemars::JsonSchema` names the derive too, and two imports would clash.
use schemars_derive::JsonSchema;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;

/// A tool's answer that is either its result or a request to confirm first.
///
/// Return `Result<Reply<T>, E>` from a tool that asks for consent before it acts: on the
/// first call ([`ToolContext::confirmed`](crate::ToolContext::confirmed) is `false`) answer
/// a [`Confirmation`]; Pillar shows it to the user, and when they confirm, the tool is
/// called again with `confirmed() == true` and the confirmation's payload as its input.
///
/// `Reply<T>` serialises as `T` itself or as the confirmation object, exactly the wire
/// shapes Pillar expects.
///
/// ```
/// use pillar::{Confirmation, Reply, ToolContext};
///
/// #[derive(serde::Serialize)]
/// struct Cancelled { plan: String }
///
/// /// Cancel the customer's subscription.
/// #[pillar::tool]
/// async fn cancel_subscription(plan: String, ctx: &ToolContext) -> Reply<Cancelled> {
///     if !ctx.confirmed() {
///         return Confirmation::new()
///             .title("Cancel the subscription?")
///             .message(format!("The {plan} plan ends today."))
///             .payload(serde_json::json!({ "plan": plan }))
///             .into();
///     }
///     Reply::Done(Cancelled { plan })
/// }
///
/// # async fn run() -> Result<(), pillar::Error> {
/// let pillar = pillar::testing::pillar().build()?;
/// let asked = pillar::testing::call(&pillar, "cancel_subscription", serde_json::json!({"plan": "pro"}))
///     .await
///     .unwrap();
/// assert_eq!(asked["confirmation_required"], true);
/// assert_eq!(asked["confirm_payload"], serde_json::json!({"plan": "pro"}));
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Reply<T> {
    /// The tool did its work; this is the result.
    Done(T),
    /// The tool wants the user's confirmation before it does anything.
    Confirm(Confirmation),
}

impl<T> From<Confirmation> for Reply<T> {
    fn from(confirmation: Confirmation) -> Self {
        Self::Confirm(confirmation)
    }
}

impl<T: Serialize> Serialize for Reply<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Done(value) => value.serialize(serializer),
            Self::Confirm(confirmation) => confirmation.serialize(serializer),
        }
    }
}

/// The output schema of a `Reply<T>` is that of `T`: the confirmation request is part of
/// the protocol, not of the tool's result.
impl<T: schemars::JsonSchema> schemars::JsonSchema for Reply<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }

    fn inline_schema() -> bool {
        T::inline_schema()
    }
}

/// A request for the user's confirmation (PROTOCOL section 3).
///
/// Serialises to `{"confirmation_required": true, "title": ..., "message": ...,
/// "details": {...}, "confirm_payload": {...}}`, leaving out what was not set. Without a
/// payload, Pillar Cloud sends the original arguments back on confirm; with one, it sends
/// the payload instead, and the tool's input on the confirmed call is that payload.
///
/// ```
/// use pillar::Confirmation;
/// use serde_json::json;
///
/// let c = Confirmation::new()
///     .title("Remove member")
///     .message("Remove Sarah from the workspace?")
///     .detail("Member", "Sarah")
///     .payload(json!({"user_id": "u_42"}));
/// assert_eq!(
///     serde_json::to_value(&c).unwrap(),
///     json!({
///         "confirmation_required": true,
///         "title": "Remove member",
///         "message": "Remove Sarah from the workspace?",
///         "details": {"Member": "Sarah"},
///         "confirm_payload": {"user_id": "u_42"}
///     })
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct Confirmation {
    title: Option<String>,
    message: Option<String>,
    details: Vec<(String, String)>,
    payload: Option<Value>,
}

impl Confirmation {
    /// An empty confirmation request (Pillar titles it with the tool's name).
    pub fn new() -> Self {
        Self::default()
    }

    /// A short headline.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// One line shown before the Confirm and Cancel buttons.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Adds a row to the summary card; rows keep the order they were added in.
    pub fn detail(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.details.push((label.into(), value.into()));
        self
    }

    /// The input the tool gets on the confirmed call (default: the original arguments).
    /// It must be a JSON object, as tool inputs are.
    pub fn payload(mut self, payload: impl Into<Value>) -> Self {
        self.payload = Some(payload.into());
        self
    }

    /// Like [`payload`](Self::payload), from any serialisable value.
    ///
    /// # Errors
    /// When `payload` cannot be represented as JSON.
    pub fn try_payload<P: Serialize>(self, payload: &P) -> Result<Self, serde_json::Error> {
        Ok(self.payload(serde_json::to_value(payload)?))
    }
}

impl Serialize for Confirmation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Details<'a>(&'a [(String, String)]);
        impl Serialize for Details<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
            }
        }

        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("confirmation_required", &true)?;
        if let Some(title) = &self.title {
            map.serialize_entry("title", title)?;
        }
        if let Some(message) = &self.message {
            map.serialize_entry("message", message)?;
        }
        if !self.details.is_empty() {
            map.serialize_entry("details", &Details(&self.details))?;
        }
        if let Some(payload) = &self.payload {
            map.serialize_entry("confirm_payload", payload)?;
        }
        map.end()
    }
}

/// A result with display hints (PROTOCOL section 4): a summary line, data, and actions
/// such as a link to open.
///
/// ```
/// use pillar::{Action, DisplayResult};
/// use serde_json::json;
///
/// let r = DisplayResult::new("Upgraded to Pro")
///     .data(json!({"plan": "pro"}))
///     .action(Action::open_url("View plan", "https://app.example.com/billing"));
/// assert_eq!(
///     serde_json::to_value(&r).unwrap(),
///     json!({
///         "summary": "Upgraded to Pro",
///         "data": {"plan": "pro"},
///         "actions": [{"type": "open_url", "label": "View plan", "url": "https://app.example.com/billing"}]
///     })
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[must_use]
pub struct DisplayResult {
    summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    actions: Vec<Action>,
}

impl DisplayResult {
    /// A result whose summary Pillar shows to the user.
    pub fn new(summary: impl Into<String>) -> Self {
        Self {
            summary: summary.into(),
            data: None,
            actions: Vec::new(),
        }
    }

    /// Structured data for the agent.
    pub fn data(mut self, data: impl Into<Value>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// Adds an action Pillar renders (a link in Slack, a navigation in the web panel).
    pub fn action(mut self, action: Action) -> Self {
        self.actions.push(action);
        self
    }
}

/// An action attached to a [`DisplayResult`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Open a URL.
    OpenUrl {
        /// The button or link text.
        label: String,
        /// Where it goes.
        url: String,
    },
}

impl Action {
    /// An `open_url` action.
    pub fn open_url(label: impl Into<String>, url: impl Into<String>) -> Self {
        Self::OpenUrl {
            label: label.into(),
            url: url.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn minimal_confirmation_is_only_the_flag() {
        assert_eq!(
            serde_json::to_string(&Confirmation::new()).unwrap(),
            r#"{"confirmation_required":true}"#
        );
    }

    #[test]
    fn details_keep_insertion_order() {
        let c = Confirmation::new().detail("Zed", "1").detail("Alpha", "2");
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"confirmation_required":true,"details":{"Zed":"1","Alpha":"2"}}"#
        );
    }

    #[test]
    fn reply_serialises_transparently() {
        let done: Reply<Value> = Reply::Done(json!({"removed": true}));
        assert_eq!(
            serde_json::to_value(&done).unwrap(),
            json!({"removed": true})
        );
        let ask: Reply<Value> = Confirmation::new().title("t").into();
        assert_eq!(
            serde_json::to_value(&ask).unwrap(),
            json!({"confirmation_required": true, "title": "t"})
        );
    }
}
