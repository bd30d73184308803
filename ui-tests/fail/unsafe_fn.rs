/// `unsafe`.
#[pillar::tool]
async unsafe fn danger(n: u32) -> u32 {
    n
}

/// `extern "C"`.
#[pillar::tool]
async extern "C" fn foreign(n: u32) -> u32 {
    n
}

fn main() {}
