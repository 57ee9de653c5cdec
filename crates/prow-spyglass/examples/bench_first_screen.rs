//! Time the first screen of `/view/...` for a large build log.
//!
//! `cargo run --release -p prow-spyglass --example bench_first_screen [LOG] [SIZE_MB]`
//! Without LOG, a log of SIZE_MB (default 1024) MiB is generated in a temporary directory,
//! with error lines near its start and end.

use std::io::Write as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let given = args.next().filter(|a| a != "-");
    let size_mb: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1024);
    let tmp = tempfile::TempDir::new()?;
    let path = match given {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let p = tmp.path().join("build-log.txt");
            let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&p)?);
            writeln!(f, "starting\nERROR: something broke early")?;
            let line = format!("{}\n", "x".repeat(119));
            let target = size_mb << 20;
            let mut written = 0u64;
            let mut block = String::with_capacity(1 << 20);
            while block.len() + line.len() <= 1 << 20 {
                block.push_str(&line);
            }
            while written + block.len() as u64 <= target {
                f.write_all(block.as_bytes())?;
                written += block.len() as u64;
            }
            writeln!(f, "panic: something broke late\ndone")?;
            f.flush()?;
            p
        }
    };
    for round in 1..=3 {
        let r = prow_spyglass::bench_first_screen(&path).await?;
        println!(
            "round {round}: log {} MiB, status {}, time to first byte {:?}, full page {:?}, page {} KiB",
            r.log_bytes >> 20,
            r.status,
            r.time_to_first_byte,
            r.full_page,
            r.page_bytes >> 10
        );
    }
    Ok(())
}
