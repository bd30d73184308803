//! Skills: markdown instructions registered with the tools, which agents load and follow.

use serde::Serialize;

use crate::error::Error;

/// A skill: a name, when to use it, and markdown content.
///
/// Define one with [`Skill::new`] and pass it to
/// [`PillarBuilder::skill`](crate::PillarBuilder::skill), or register it from anywhere in
/// the program with [`skill!`](crate::skill!). Content is often kept in a file:
///
/// ```
/// let guide = pillar::Skill::new(
///     "setup-guide",
///     "How to set up billing in the app",
///     "# Setup\n\n1. Open Settings > Billing.", // or include_str!("setup.md")
/// );
/// assert_eq!(guide.name(), "setup-guide");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skill {
    name: String,
    description: String,
    content: String,
}

impl Skill {
    /// A skill; checked (non-empty fields) when the `Pillar` is built.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        content: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            content: content.into(),
        }
    }

    /// The skill's unique name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When and why to use it.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The markdown content.
    pub fn content(&self) -> &str {
        &self.content
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let missing = [
            ("name", &self.name),
            ("description", &self.description),
            ("content", &self.content),
        ]
        .into_iter()
        .find(|(_, value)| value.trim().is_empty());
        match missing {
            Some((field, _)) => Err(Error::InvalidSkill {
                name: self.name.clone(),
                reason: format!("its {field} is empty"),
            }),
            None => Ok(()),
        }
    }
}

/// A skill submitted with [`skill!`](crate::skill!). Not public API.
#[doc(hidden)]
#[derive(Debug)]
pub struct StaticSkill {
    pub name: &'static str,
    pub description: &'static str,
    pub content: &'static str,
}

inventory::collect!(StaticSkill);

/// Registers a skill from anywhere in the program, like `#[pillar::tool]` does for tools.
///
/// ```
/// pillar::skill! {
///     name: "refund-policy",
///     description: "How refunds work and when to offer one",
///     content: "# Refunds\n\nFull refund within 30 days.", // or include_str!("refunds.md")
/// }
///
/// let pillar = pillar::Pillar::builder().secret("plr_test").build().unwrap();
/// assert!(pillar.skills().iter().any(|s| s.name() == "refund-policy"));
/// ```
#[macro_export]
macro_rules! skill {
    (name: $name:expr, description: $description:expr, content: $content:expr $(,)?) => {
        $crate::__private::inventory::submit! {
            $crate::__private::StaticSkill {
                name: $name,
                description: $description,
                content: $content,
            }
        }
    };
}
