/// Reads a file.
#[pillar::tool]
fn read_file(path: String) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

fn main() {}
