// `pillar` does not compile when the channel names `#[pillar::tool]` accepts (the macro
// crate's own list) are not `pillar::Channel::KNOWN`'s: `pillar/src/__private.rs` runs
// this check on `pillar_macros::__channel_names!()`. Here it is given a list with a
// channel the runtime does not know, as the macro's would be if only it were updated.
const _: () = if let Some(problem) = pillar::__private::channel_names_problem(&[
    "web", "slack", "discord", "email", "api", "mcp", "teams", "*",
]) {
    panic!("{}", problem.as_str())
};

// The same names in the same order pass.
const _: () = assert!(pillar::__private::channel_names_problem(pillar::CHANNELS).is_none());

/// An unknown channel: the macro's error names the known ones, the runtime's list.
#[pillar::tool(channels = ["web", "teams"])]
async fn local_only() {}

fn main() {}
