// `Arc<T>` and `Rc<T>` implement `Deserialize` only with serde's `rc` feature, which this
// crate does not enable: the error says so, on the parameter or inside it.
use std::rc::Rc;
use std::sync::Arc;

/// Shared strings.
#[pillar::tool]
async fn shared(name: Arc<str>, tags: Vec<Rc<str>>) -> String {
    let _ = tags;
    name.to_string()
}

fn main() {}
