//! The per-call context handed to a tool: who is calling, from where, in which
//! conversation.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A channel name a tool may list in its `channels`: one row of [`Channel::KNOWN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KnownChannel {
    /// The name on the wire (a caller's `channel`) and in a tool's `channels`; `*` is
    /// every channel.
    pub name: &'static str,
    /// Whether Pillar Cloud knows the name: it sends calls from this channel and accepts
    /// it in a registration's `channel_compatibility`. A local-only channel's calls do not
    /// come through Pillar Cloud.
    pub cloud: bool,
}

/// Writes [`Channel`]'s named variants, [`Channel::from_name`], [`Channel::as_str`] and
/// [`Channel::KNOWN`] from one list, the one place the SDK's channel names are written
/// (`#[pillar::tool]` keeps a copy, checked against it when this crate compiles).
macro_rules! known_channels {
    ($($(#[$meta:meta])* $variant:ident => $name:literal, cloud: $cloud:literal;)+) => {
        /// The channel a call came from.
        ///
        /// Unknown channel names are kept as [`Channel::Other`] rather than refused, so a
        /// new channel on the Pillar Cloud side never breaks an existing deployment.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        #[non_exhaustive]
        pub enum Channel {
            $($(#[$meta])* $variant,)+
            /// A channel this version of the SDK does not know by name.
            Other(String),
        }

        impl Channel {
            /// Every channel name a tool may list, in the order messages give them, `*`
            /// (every channel) last; each says whether Pillar Cloud knows it. The runtime,
            /// [`CHANNELS`](crate::CHANNELS), the `pillar` command's `--channel` and
            /// `pillar dev`'s console read their names from it.
            ///
            /// ```
            /// use pillar::Channel;
            ///
            /// let names: Vec<&str> = Channel::KNOWN.iter().map(|c| c.name).collect();
            /// assert_eq!(names, ["web", "slack", "discord", "email", "api", "mcp", "*"]);
            /// // Every channel but `mcp` (MCP clients, served by this server itself) is
            /// // Pillar Cloud's.
            /// assert!(Channel::KNOWN.iter().all(|c| c.cloud == (c.name != "mcp")));
            /// ```
            pub const KNOWN: &'static [KnownChannel] = &[
                $(KnownChannel { name: $name, cloud: $cloud },)+
                KnownChannel { name: "*", cloud: true },
            ];

            /// Reads a channel name as it appears on the wire (`"web"`, `"slack"`, ...).
            pub fn from_name(name: &str) -> Self {
                match name {
                    $($name => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }

            /// The wire name of the channel.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $name,)+
                    Self::Other(name) => name,
                }
            }
        }
    };
}

known_channels! {
    /// The web panel embedded in the product (the default).
    #[default]
    Web => "web", cloud: true;
    /// Slack.
    Slack => "slack", cloud: true;
    /// Discord.
    Discord => "discord", cloud: true;
    /// Email.
    Email => "email", cloud: true;
    /// The Pillar API.
    Api => "api", cloud: true;
    /// An MCP client, through the `mcp` feature's bridge (`pillar::mcp`): local to this
    /// server, never sent to Pillar Cloud (a tool whose only channel is `mcp` is not
    /// registered). `*` includes it.
    Mcp => "mcp", cloud: false;
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Channel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Channel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::from_name(&name))
    }
}

/// Identity and channel of the person whose request made the agent call a tool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallerInfo {
    /// Where the request came from (`web` when the Cloud does not say).
    #[serde(default)]
    pub channel: Channel,
    /// The user's id on that channel (a Slack user id, say).
    #[serde(default)]
    pub channel_user_id: Option<String>,
    /// Your application's id for the user, once the identity is linked.
    #[serde(default)]
    pub external_user_id: Option<String>,
    /// The user's email, if known.
    #[serde(default)]
    pub email: Option<String>,
    /// The user's display name, if known.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// Everything a tool may want to know about the call it is serving.
///
/// Take it as `ctx: &ToolContext` anywhere in a tool's parameter list; it is not part of
/// the tool's input schema. Build one for tests with [`ToolContext::builder`].
///
/// Two contexts are equal when their call data are; their [request
/// data](Self::extension) are not compared.
#[derive(Debug, Clone, Default)]
pub struct ToolContext {
    pub(crate) caller: CallerInfo,
    pub(crate) conversation_id: String,
    /// Shared with the answer.
    pub(crate) call_id: Arc<str>,
    /// Shared with the registry.
    pub(crate) tool_name: Arc<str>,
    pub(crate) product_id: Option<String>,
    pub(crate) confirmed: bool,
    /// What the web app's middleware put on the request (adapters only).
    pub(crate) extensions: http::Extensions,
}

impl PartialEq for ToolContext {
    fn eq(&self, other: &Self) -> bool {
        self.caller == other.caller
            && self.conversation_id == other.conversation_id
            && self.call_id == other.call_id
            && self.tool_name == other.tool_name
            && self.product_id == other.product_id
            && self.confirmed == other.confirmed
    }
}

impl Eq for ToolContext {}

impl ToolContext {
    /// Starts a context for tests or for calling a tool by hand.
    pub fn builder() -> ToolContextBuilder {
        ToolContextBuilder::default()
    }

    /// A value the web app put on the webhook's request, by type: what a middleware
    /// inserted into the request's `http::Extensions` (an authenticated tenant, a request
    /// id), when the webhook is mounted in an app through an adapter (axum, tower; with
    /// actix, the types given to
    /// [`Webhook::carry`](crate::adapters::actix::Webhook::carry)).
    ///
    /// `None` when the request carried no such value, and always with [`serve`](crate::serve)
    /// (it has no middleware: give application values with
    /// [`State<T>`](crate::State) instead) or [`Pillar::handle`](crate::Pillar::handle)
    /// (use [`Pillar::handle_with_extensions`](crate::Pillar::handle_with_extensions)).
    ///
    /// ```
    /// #[derive(Clone)]
    /// struct Tenant(String);
    ///
    /// /// Which workspace is asking.
    /// #[pillar::tool]
    /// async fn whoami(ctx: &pillar::ToolContext) -> Result<String, String> {
    ///     let tenant = ctx.extension::<Tenant>().ok_or("no tenant on the request")?;
    ///     Ok(tenant.0.clone())
    /// }
    ///
    /// let ctx = pillar::ToolContext::builder().extension(Tenant("acme".into())).build();
    /// assert_eq!(ctx.extension::<Tenant>().map(|t| t.0.as_str()), Some("acme"));
    /// ```
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions.get::<T>()
    }

    /// Every value the web app put on the webhook's request (see
    /// [`extension`](Self::extension)).
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }

    /// Who is calling, and from which channel.
    pub fn caller(&self) -> &CallerInfo {
        &self.caller
    }

    /// The conversation the call belongs to (empty when the Cloud did not send one).
    pub fn conversation_id(&self) -> &str {
        &self.conversation_id
    }

    /// The unique id of this tool call (empty when the Cloud did not send one).
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The name under which the tool was called.
    pub fn tool_name(&self) -> &str {
        &self.tool_name
    }

    /// The product the conversation belongs to, if any.
    pub fn product_id(&self) -> Option<&str> {
        self.product_id.as_deref()
    }

    /// `true` when this is the re-call after the user confirmed a
    /// [`Confirmation`](crate::Confirmation).
    pub fn confirmed(&self) -> bool {
        self.confirmed
    }

    /// `true` when the caller has a non-empty `external_user_id`: Pillar knows which of
    /// your users this is.
    pub fn is_identified(&self) -> bool {
        self.caller
            .external_user_id
            .as_deref()
            .is_some_and(|id| !id.is_empty())
    }
}

/// Builds a [`ToolContext`], for tests and for running tools by hand.
///
/// ```
/// use pillar::{Channel, ToolContext};
///
/// let ctx = ToolContext::builder()
///     .channel(Channel::Slack)
///     .external_user_id("u_42")
///     .call_id("tc_1")
///     .confirmed(true)
///     .build();
/// assert!(ctx.is_identified());
/// assert_eq!(ctx.caller().channel, Channel::Slack);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ToolContextBuilder {
    ctx: ToolContext,
}

impl ToolContextBuilder {
    /// Sets the caller's channel.
    pub fn channel(mut self, channel: Channel) -> Self {
        self.ctx.caller.channel = channel;
        self
    }

    /// Sets the caller's id on the channel.
    pub fn channel_user_id(mut self, id: impl Into<String>) -> Self {
        self.ctx.caller.channel_user_id = Some(id.into());
        self
    }

    /// Sets your application's id for the caller.
    pub fn external_user_id(mut self, id: impl Into<String>) -> Self {
        self.ctx.caller.external_user_id = Some(id.into());
        self
    }

    /// Sets the caller's email.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.ctx.caller.email = Some(email.into());
        self
    }

    /// Sets the caller's display name.
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.ctx.caller.display_name = Some(name.into());
        self
    }

    /// Replaces the whole caller.
    pub fn caller(mut self, caller: CallerInfo) -> Self {
        self.ctx.caller = caller;
        self
    }

    /// Sets the conversation id.
    pub fn conversation_id(mut self, id: impl Into<String>) -> Self {
        self.ctx.conversation_id = id.into();
        self
    }

    /// Sets the call id.
    pub fn call_id(mut self, id: impl Into<String>) -> Self {
        self.ctx.call_id = Arc::from(id.into());
        self
    }

    /// Sets the tool name (filled in by the SDK when it runs a tool).
    pub fn tool_name(mut self, name: impl Into<String>) -> Self {
        self.ctx.tool_name = Arc::from(name.into());
        self
    }

    /// Sets the product id.
    pub fn product_id(mut self, id: impl Into<String>) -> Self {
        self.ctx.product_id = Some(id.into());
        self
    }

    /// Marks the call as the confirmed re-call.
    pub fn confirmed(mut self, confirmed: bool) -> Self {
        self.ctx.confirmed = confirmed;
        self
    }

    /// Adds a request value, as a web app's middleware would (see
    /// [`ToolContext::extension`]).
    pub fn extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.ctx.extensions.insert(value);
        self
    }

    /// Finishes the context.
    pub fn build(self) -> ToolContext {
        self.ctx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_channels_are_kept() {
        let caller: CallerInfo = serde_json::from_str(r#"{"channel":"teams"}"#).unwrap();
        assert_eq!(caller.channel, Channel::Other("teams".into()));
        assert_eq!(caller.channel.as_str(), "teams");
        let caller: CallerInfo = serde_json::from_str("{}").unwrap();
        assert_eq!(caller.channel, Channel::Web);
    }

    #[test]
    fn empty_external_id_is_not_identified() {
        assert!(!ToolContext::builder().build().is_identified());
        assert!(!ToolContext::builder()
            .external_user_id("")
            .build()
            .is_identified());
        assert!(ToolContext::builder()
            .external_user_id("u1")
            .build()
            .is_identified());
    }
}
