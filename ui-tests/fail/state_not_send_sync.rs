use std::rc::Rc;
use std::cell::RefCell;

use pillar::State;

/// A state that cannot be shared between threads.
#[pillar::tool]
async fn counter(count: State<Rc<RefCell<u32>>>) -> u32 {
    *count.borrow()
}

fn main() {}
