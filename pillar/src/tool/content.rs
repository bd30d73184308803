//! MCP content blocks a tool may answer with (feature `mcp`): text, images, audio and
//! embedded resources, one block or several. Re-exported as `pillar::mcp::{Content,
//! Contents}`.
//!
//! Neither type implements `Serialize`, on purpose: [`IntoToolResult`](crate::IntoToolResult)
//! tells them from a JSON result by that, and answers them as
//! [`ToolOutput::Content`](super::output::ToolOutput::Content).

use base64::Engine as _;
use rmcp::model::{ContentBlock, ResourceContents};

use super::output::ToolOutput;

/// One MCP content block: what an MCP client shows or reads, beside or instead of a JSON
/// result. Return it (or [`Contents`], several) from a tool, directly or as the `Ok` of a
/// `Result`.
///
/// ```
/// use pillar::mcp::{Content, Contents};
///
/// /// Today's sales chart.
/// #[pillar::tool]
/// async fn sales_chart() -> Result<Contents, String> {
///     let png: Vec<u8> = vec![0x89, b'P', b'N', b'G']; // the chart's bytes
///     Ok(Contents::from(vec![
///         Content::text("Sales for today:"),
///         Content::image(png, "image/png"),
///     ]))
/// }
/// ```
///
/// Over MCP, the blocks are the call result's `content` as they are (bytes in base64).
/// Over the webhook (Pillar Cloud), the result is the JSON array of the same blocks in
/// MCP's shape: `[{"type": "text", "text": "..."}, {"type": "image", "data": "<base64>",
/// "mimeType": "image/png"}, ...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content(Block);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    Text(String),
    Image {
        data: Vec<u8>,
        mime_type: String,
    },
    Audio {
        data: Vec<u8>,
        mime_type: String,
    },
    Resource {
        uri: String,
        mime_type: Option<String>,
        body: Body,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Body {
    Text(String),
    Blob(Vec<u8>),
}

impl Content {
    /// A text block, shown as it is.
    pub fn text(text: impl Into<String>) -> Self {
        Self(Block::Text(text.into()))
    }

    /// An image: its bytes and MIME type (`image/png`, ...); base64 on the wire.
    pub fn image(data: impl Into<Vec<u8>>, mime_type: impl Into<String>) -> Self {
        Self(Block::Image {
            data: data.into(),
            mime_type: mime_type.into(),
        })
    }

    /// A sound: its bytes and MIME type (`audio/wav`, ...); base64 on the wire.
    pub fn audio(data: impl Into<Vec<u8>>, mime_type: impl Into<String>) -> Self {
        Self(Block::Audio {
            data: data.into(),
            mime_type: mime_type.into(),
        })
    }

    /// An embedded resource with text content: its URI, MIME type and text.
    pub fn resource_text(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Self(Block::Resource {
            uri: uri.into(),
            mime_type: Some(mime_type.into()),
            body: Body::Text(text.into()),
        })
    }

    /// An embedded resource with binary content: its URI, MIME type and bytes (base64 on
    /// the wire).
    pub fn resource_blob(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        data: impl Into<Vec<u8>>,
    ) -> Self {
        Self(Block::Resource {
            uri: uri.into(),
            mime_type: Some(mime_type.into()),
            body: Body::Blob(data.into()),
        })
    }

    /// The block as rmcp's model has it.
    pub(crate) fn to_block(&self) -> ContentBlock {
        let b64 = |data: &[u8]| base64::engine::general_purpose::STANDARD.encode(data);
        match &self.0 {
            Block::Text(text) => ContentBlock::text(text.clone()),
            Block::Image { data, mime_type } => ContentBlock::image(b64(data), mime_type.clone()),
            Block::Audio { data, mime_type } => ContentBlock::audio(b64(data), mime_type.clone()),
            Block::Resource {
                uri,
                mime_type,
                body,
            } => {
                let mut contents = match body {
                    Body::Text(text) => ResourceContents::TextResourceContents {
                        uri: uri.clone(),
                        mime_type: None,
                        text: text.clone(),
                        meta: None,
                    },
                    Body::Blob(data) => ResourceContents::blob(b64(data), uri.clone()),
                };
                if let Some(mime_type) = mime_type {
                    contents = contents.with_mime_type(mime_type.clone());
                }
                ContentBlock::resource(contents)
            }
        }
    }
}

/// Several [`Content`] blocks, in order: a tool's answer over MCP.
///
/// Built from a `Vec<Content>`, an iterator of blocks, or one block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contents(Vec<Content>);

impl Contents {
    /// No blocks yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a block.
    #[must_use]
    pub fn with(mut self, block: Content) -> Self {
        self.0.push(block);
        self
    }

    /// Appends a block.
    pub fn push(&mut self, block: Content) {
        self.0.push(block);
    }

    /// The blocks.
    pub fn blocks(&self) -> &[Content] {
        &self.0
    }

    /// The blocks as rmcp's model has them.
    pub(crate) fn to_blocks(&self) -> Vec<ContentBlock> {
        self.0.iter().map(Content::to_block).collect()
    }

    /// The webhook's form: the JSON array of the blocks in MCP's shape.
    pub(crate) fn to_output(&self) -> ToolOutput {
        ToolOutput::from_value(&self.to_blocks())
    }
}

impl From<Vec<Content>> for Contents {
    fn from(blocks: Vec<Content>) -> Self {
        Self(blocks)
    }
}

impl From<Content> for Contents {
    fn from(block: Content) -> Self {
        Self(vec![block])
    }
}

impl FromIterator<Content> for Contents {
    fn from_iter<I: IntoIterator<Item = Content>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}
