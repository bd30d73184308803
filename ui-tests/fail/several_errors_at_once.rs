/// Everything at once: an unknown key, a bad channel, a bad timeout, not `async`, a
/// borrowed parameter. Every error shows in one build, and `main` still finds `report`.
#[pillar::tool(colour = "blue", channels = ["web", "sms"], timeout_ms = 0)]
fn report(title: &str) -> String {
    title.to_owned()
}

fn main() {
    let _ = report("still callable");
}
