use serde::Deserialize;

#[derive(Deserialize)]
struct Config {
    verbose: bool,
}

/// A reference to something that is not the context.
#[pillar::tool]
async fn run(config: &Config) -> bool {
    config.verbose
}

fn main() {}
