//! [`State<T>`]: a value of the application (a database pool, an HTTP client, its
//! configuration) given to the builder once and received by every tool that asks for it.
//!
//! Each tool's states are found when the `Pillar` is built, by type, and kept beside the
//! tool in the order of its parameters: a call clones an `Arc` per state and checks its
//! type once, with no map lookup and no allocation.

use std::any::{type_name, Any, TypeId};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A value of the application that a tool receives as a parameter: `db: State<Db>`.
///
/// Give the value to the builder with [`PillarBuilder::state`](crate::PillarBuilder::state);
/// every tool that takes a `State<Db>` parameter gets it, behind an `Arc` (so `Db` needs
/// `Send + Sync + 'static`, not `Clone`). A tool that asks for a state the builder was
/// not given is an error of [`build`](crate::PillarBuilder::build), naming the tool and the
/// type: `serve()` fails at start, never on a call.
///
/// ```
/// use pillar::State;
///
/// struct Db { customers: Vec<String> }
///
/// /// Count the customers.
/// #[pillar::tool]
/// async fn count_customers(db: State<Db>) -> usize {
///     db.customers.len() // `State<Db>` derefs to `Db`
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let pillar = pillar::testing::pillar()
///     .state(Db { customers: vec!["Sarah".into(), "Li".into()] })
///     .build()?;
/// let count = pillar::testing::call(&pillar, "count_customers", serde_json::json!({})).await?;
/// assert_eq!(count, 2);
///
/// // In a unit test, the function is still a plain `async fn`:
/// assert_eq!(count_customers(State::new(Db { customers: vec![] })).await, 0);
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
/// ```
///
/// The macro recognises the parameter by its type's name, `State<...>` (or a path ending
/// in it, `pillar::State<...>`); import it under that name.
pub struct State<T>(Arc<T>);

impl<T> State<T> {
    /// A state holding `value`: for calling a tool function directly, in a test.
    pub fn new(value: T) -> Self {
        Self(Arc::new(value))
    }

    /// The shared value.
    #[must_use]
    pub fn into_arc(self) -> Arc<T> {
        self.0
    }
}

impl<T> Deref for State<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> AsRef<T> for State<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> From<T> for State<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T> From<Arc<T>> for State<T> {
    fn from(value: Arc<T>) -> Self {
        Self(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for State<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("State").field(&self.0).finish()
    }
}

/// A state value as the builder keeps it.
pub type Shared = Arc<dyn Any + Send + Sync>;

/// The type of a state a tool asks for, as the macro records it.
#[derive(Clone, Copy)]
pub struct StateSlot {
    /// `TypeId::of::<T>`.
    pub(crate) type_id: fn() -> TypeId,
    /// `type_name::<T>`, for errors.
    pub(crate) type_name: fn() -> &'static str,
}

impl StateSlot {
    /// The slot of a `State<T>` parameter.
    #[must_use]
    pub const fn of<T: Send + Sync + 'static>() -> Self {
        Self {
            type_id: TypeId::of::<T>,
            type_name: type_name::<T>,
        }
    }

    /// The type's name, as `std::any::type_name` gives it.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        (self.type_name)()
    }
}

impl fmt::Debug for StateSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name())
    }
}

/// The states given to a builder, one per type.
#[derive(Default, Clone)]
pub(crate) struct States {
    entries: Vec<(TypeId, &'static str, Shared)>,
    /// The first type given twice.
    duplicate: Option<&'static str>,
}

impl States {
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        let id = TypeId::of::<T>();
        if self.entries.iter().any(|(seen, ..)| *seen == id) {
            self.duplicate.get_or_insert(type_name::<T>());
            return;
        }
        self.entries.push((id, type_name::<T>(), Arc::new(value)));
    }

    /// The first type given twice, if any.
    pub(crate) fn duplicate(&self) -> Option<&'static str> {
        self.duplicate
    }

    /// The value for `slot`.
    pub(crate) fn find(&self, slot: &StateSlot) -> Option<Shared> {
        let id = (slot.type_id)();
        self.entries
            .iter()
            .find(|(seen, ..)| *seen == id)
            .map(|(.., value)| Arc::clone(value))
    }

    /// The names of the types given, for `Debug`.
    pub(crate) fn type_names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|(_, name, _)| *name).collect()
    }
}

/// The state at `index` of a tool's resolved states, as the tool's parameter type. The
/// types were matched when the `Pillar` was built, so this finds its value; should it not,
/// the call fails with a message rather than a panic.
///
/// # Errors
/// When the value at `index` is missing or of another type (a bug of the SDK).
pub(crate) fn state_at<T: Send + Sync + 'static>(
    states: &[Shared],
    index: usize,
) -> Result<State<T>, String> {
    states
        .get(index)
        .and_then(|value| Arc::clone(value).downcast::<T>().ok())
        .map(State)
        .ok_or_else(|| {
            format!(
                "internal error: the state `{}` of this tool was not resolved when the Pillar \
                 was built",
                type_name::<T>()
            )
        })
}
